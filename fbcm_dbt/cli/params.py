"""Every CLI option, defined once and stacked onto the commands that take it (as dbt's cli/params.py).

dbt's own flags keep their dbt meaning and environment variables; fbcm's own settings use FBCM_*.
"""

from __future__ import annotations

from pathlib import Path

import click

from fbcm_dbt.meta.client import DEFAULT_API_VERSION, DEFAULT_GRAPH_URL


def _default_project_dir() -> Path:
    """The nearest directory, from the cwd upwards, holding dbt_project.yml (dbt's rule)."""
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").exists():
            return candidate
    return here


def _default_profiles_dir() -> Path:
    """dbt's rule: the cwd when it holds profiles.yml, else ~/.dbt."""
    return Path.cwd() if (Path.cwd() / "profiles.yml").exists() else Path.home() / ".dbt"


project_dir = click.option("--project-dir", envvar="DBT_PROJECT_DIR", type=click.Path(file_okay=False, path_type=Path),
                           default=None, help="dbt project directory (default: nearest parent with dbt_project.yml).")
profiles_dir = click.option("--profiles-dir", envvar="DBT_PROFILES_DIR", type=click.Path(file_okay=False, path_type=Path),
                            default=None, help="Directory of profiles.yml (default: cwd if it has one, else ~/.dbt).")
target = click.option("--target", "-t", envvar="DBT_TARGET", default=None, help="dbt target of the profile.")
target_path = click.option("--target-path", envvar="DBT_TARGET_PATH", type=click.Path(path_type=Path), default=None,
                           help="dbt's artifact directory (default: <project-dir>/target).")
dbt_vars = click.option("--vars", "vars_", default=None, help="dbt vars as a YAML string, as in dbt.")
select = click.option("--select", "-s", multiple=True, help="dbt selection syntax; repeatable.")
exclude = click.option("--exclude", multiple=True, help="dbt exclusion syntax; repeatable.")
selector = click.option("--selector", default=None, help="A named selector from selectors.yml.")
tag = click.option("--tag", envvar="FBCM_TAG", default="fbcm", show_default=True,
                   help="The tag that marks managed models.")
skip_build_check = click.option("--skip-build-check", is_flag=True,
                                help="Sync models even if the last dbt run did not build them successfully.")
graph_url = click.option("--graph-url", envvar="FBCM_GRAPH_URL", default=DEFAULT_GRAPH_URL, show_default=True,
                         help="Base URL of the Graph API (the emulator's URL for local runs).")
api_version = click.option("--api-version", envvar="FBCM_API_VERSION", default=DEFAULT_API_VERSION, show_default=True,
                           help="Marketing API version, e.g. v26.0.")
output_format = click.option("--output", "output_format", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="Plan/summary format on stdout.")
quiet = click.option("--quiet", "-q", is_flag=True, envvar="FBCM_QUIET",
                     help="Print only errors and the final summary.")
log_format = click.option("--log-format", type=click.Choice(["text", "json"]), default="text", envvar="FBCM_LOG_FORMAT",
                          show_default=True, help="Log lines on stderr as text or as one JSON object per line.")
log_level = click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
                         envvar="FBCM_LOG_LEVEL", show_default=True, help="Log lines on stderr.")
detailed_exitcode = click.option("--detailed-exitcode", is_flag=True,
                                 help="Exit 0 when there is nothing to change, 2 when changes are pending, 1 on errors.")
out_file = click.option("--out", "-o", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Save the plan to this JSON file for `fbcm apply`.")
validate = click.option("--validate", is_flag=True,
                        help="Ask Meta to validate each change (execution_options=validate_only); nothing is applied.")

max_budget_increase_pct = click.option("--max-budget-increase-pct", default=None,
                                       help="Guardrail override: largest budget raise per object, in percent ('off' to disable).")
max_budget = click.option("--max-budget", default=None, help="Guardrail override: largest budget, in the model's unit.")
max_activations = click.option("--max-activations", default=None, help="Guardrail override: most activations per model.")
max_changed_fraction = click.option("--max-changed-fraction", default=None,
                                    help="Guardrail override: largest fraction of a model's objects one run may change.")
max_paused_fraction = click.option("--max-paused-fraction", default=None,
                                   help="Guardrail override: largest fraction of active objects one run may pause.")

ledger = click.option("--ledger/--no-ledger", "ledger_enabled", default=True, show_default=True,
                      help="Append every change to the ledger table in the warehouse.")
ledger_schema = click.option("--ledger-schema", envvar="FBCM_LEDGER_SCHEMA", default=None,
                             help="Schema of the ledger table (default: the target's schema).")
ledger_table = click.option("--ledger-table", envvar="FBCM_LEDGER_TABLE", default="fbcm_ledger", show_default=True,
                            help="Name of the ledger table.")

GUARDRAIL_OPTIONS = ("max_budget_increase_pct", "max_budget", "max_activations", "max_changed_fraction",
                     "max_paused_fraction")


def stack(*decorators):
    """Apply several option decorators in the order written."""
    def wrap(fn):
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn
    return wrap


dbt_options = stack(project_dir, profiles_dir, target, target_path, dbt_vars)
selection_options = stack(select, exclude, selector, tag, skip_build_check)
max_writes_per_second = click.option(
    "--max-writes-per-second", envvar="FBCM_MAX_WRITES_PER_SECOND", type=click.IntRange(min=0), default=100,
    show_default=True, help="Pace writes under Meta's mutation cap per ad account (0: no pacing of writes).")
meta_options = stack(graph_url, api_version, max_writes_per_second)
ledger_options = stack(ledger, ledger_schema, ledger_table)
guardrail_options = stack(max_budget_increase_pct, max_budget, max_activations, max_changed_fraction,
                          max_paused_fraction)
sync_options = stack(dbt_options, selection_options, meta_options, guardrail_options, ledger_options, output_format)
