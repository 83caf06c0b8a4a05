from fbcm_dbt.cli.main import cli

cli()
