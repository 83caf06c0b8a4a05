"""The `fbcm` command line: `params` holds every option once, `main` the thin commands, `render` the output."""
