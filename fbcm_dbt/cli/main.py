"""`fbcm` commands. Each command only turns flags into options, calls the pipeline, renders, exits."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, NoReturn

import click
import yaml
from rich.console import Console

from fbcm_dbt import __version__
from fbcm_dbt.cli import params
from fbcm_dbt.cli.logs import configure_logging, redact
from fbcm_dbt.errors import FbcmError, UsageError


class _FbcmGroup(click.Group):
    """Loads `fbcm emulator` on demand so the other commands never import it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "emulator"])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "emulator":
            from fbcm_dbt.emulator.cli import emulator

            return emulator
        return super().get_command(ctx, name)


@click.group(cls=_FbcmGroup)
@click.version_option(__version__, prog_name="fbcm")
@params.log_level
@params.log_format
@params.quiet
@click.pass_context
def cli(ctx: click.Context, log_level: str, log_format: str, quiet: bool) -> None:
    """Apply the desired state of Meta campaigns, ad sets and ads kept in dbt models."""
    ctx.obj = {"quiet": quiet, "log_format": log_format}
    configure_logging("warning" if quiet and log_level == "info" else log_level, log_format)


@cli.command("ls")
@params.dbt_options
@params.selection_options
def ls_command(**flags: Any) -> None:
    """List the managed models, their column mapping and whether the last build lets them sync."""
    from fbcm_dbt import pipeline
    from fbcm_dbt.cli import render

    with _reporting() as out:
        render.targets(out, pipeline.find_targets(_sync_options(flags)).targets)


@cli.command("validate")
@params.dbt_options
@params.selection_options
def validate_command(**flags: Any) -> None:
    """Check every row of the managed models offline: no call to Meta."""
    from fbcm_dbt import pipeline
    from fbcm_dbt.cli import render

    with _reporting() as out:
        options = _sync_options(flags)
        discovery = pipeline.find_targets(options)
        render.held(out, discovery.held)
        inputs = pipeline.read_desired(options, discovery.ready)
        render.validation(out, inputs)
        _exit(1 if any(i.desired.issues for i in inputs) else 0)


@cli.command("plan")
@params.dbt_options
@params.selection_options
@params.meta_options
@params.guardrail_options
@params.ledger_options
@params.validate
@params.out_file
@click.option("--output", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="Plan format on stdout (markdown: for a CI job summary).")
@params.detailed_exitcode
@click.option("--show-unchanged", is_flag=True, help="List unchanged and skipped objects too.")
def plan_command(validate: bool, out_file: Path | None, output_format: str, detailed_exitcode: bool,
                 show_unchanged: bool, **flags: Any) -> None:
    """Show, field by field, what a sync would change on Meta; write nothing."""
    from fbcm_dbt import pipeline
    from fbcm_dbt.cli import render
    from fbcm_dbt.planfile import plan_to_dict, save_plan

    with _reporting() as out:
        options = _sync_options(flags)
        discovery = pipeline.find_targets(options)
        inputs = pipeline.read_desired(options, discovery.ready)
        history = pipeline.budget_history(options)  # so the plan defers what sync would defer
        with pipeline.client_from_env(_client_settings(flags)) as client:
            plans = pipeline.plan_inputs(client, inputs, options.guardrail_overrides, history)
            verdicts = pipeline.apply_plans(client, plans, validate_only=True) if validate else None
        if out_file:
            save_plan(out_file, plans, flags["api_version"])
        if output_format == "json":
            doc = plan_to_dict(plans, flags["api_version"])
            if verdicts is not None:
                doc["validation"] = render.writes_json(verdicts)
            render.dump_json(out, doc)
        elif output_format == "markdown":
            render.plans_markdown(out, plans)
        else:
            render.held(out, discovery.held)
            render.plans(out, plans, show_unchanged)
            if verdicts is not None:
                render.summary(out, verdicts, title="fbcm plan --validate")
            if out_file:
                out.print(f"\nplan saved to {out_file}; apply it with `fbcm apply {out_file}`")
        report = verdicts or pipeline.RunReport(tuple(plans))
        pending = any(p.changes for p in plans)
        _exit(report.exit_code or (2 if detailed_exitcode and pending else 0))


@cli.command("apply")
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@params.dbt_options
@params.meta_options
@params.ledger_options
@params.output_format
def apply_command(plan_file: Path, output_format: str, **flags: Any) -> None:
    """Apply exactly a saved plan; objects whose live values changed since are refused."""
    from fbcm_dbt import pipeline
    from fbcm_dbt.planfile import load_plan

    with _reporting() as out:
        plans = load_plan(plan_file)
        report = pipeline.run_apply(plans, _sync_options(flags), _client_settings(flags),
                                    hooks=_hooks(out, output_format, show_plan=False))
        _finish(out, report, output_format, flags["api_version"])


@cli.command("sync")
@params.sync_options
def sync_command(output_format: str, **flags: Any) -> None:
    """Plan against live Meta state and apply what differs."""
    from fbcm_dbt import pipeline

    with _reporting() as out:
        report = pipeline.run_sync(_sync_options(flags), _client_settings(flags), hooks=_hooks(out, output_format))
        _finish(out, report, output_format, flags["api_version"])


@cli.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--dbt-command", type=click.Choice(["build", "run"]), default="build", show_default=True,
              help="The dbt command to run before syncing.")
@params.sync_options
@click.pass_context
def run_command(ctx: click.Context, dbt_command: str, output_format: str, **flags: Any) -> None:
    """Run `dbt build` in-process, then sync exactly the managed models it built successfully.

    Arguments fbcm does not know are passed to dbt unchanged.
    """
    from fbcm_dbt import pipeline
    from fbcm_dbt.dbt import backend

    with _reporting() as out:
        options = _sync_options(flags)
        selection = [arg for value in options.selection.select for arg in ("--select", value)]
        selection += [arg for value in options.selection.exclude for arg in ("--exclude", value)]
        if options.selection.selector:
            selection += ["--selector", options.selection.selector]
        outcome = backend.invoke_build(options.project, dbt_command, [*selection, *ctx.args])
        if outcome.error and not outcome.statuses:
            raise UsageError(f"dbt {dbt_command} failed before building anything: {outcome.error}")
        report = pipeline.run_sync(options, _client_settings(flags), command=f"run ({dbt_command})",
                                   build_statuses=outcome.statuses, hooks=_hooks(out, output_format))
        _finish(out, report, output_format, flags["api_version"])


@cli.command("rollback")
@click.argument("run_id")
@click.option("--yes", is_flag=True, help="Apply the rollback plan (without it, only show it).")
@params.dbt_options
@params.meta_options
@params.guardrail_options
@params.ledger_options
@params.out_file
@params.output_format
def rollback_command(run_id: str, yes: bool, out_file: Path | None, output_format: str, **flags: Any) -> None:
    """Put back the values a run replaced, against live state, through the same checks.

    A field changed again since that run is flagged and left alone.
    """
    from fbcm_dbt import pipeline
    from fbcm_dbt.planfile import save_plan

    with _reporting() as out:
        options = _sync_options(flags)
        report = pipeline.run_rollback(run_id, options, _client_settings(flags), apply=yes,
                                       hooks=_hooks(out, output_format))
        if out_file:
            save_plan(out_file, report.plans, flags["api_version"])
            if output_format == "text":
                out.print(f"rollback plan saved to {out_file}; apply it with `fbcm apply {out_file}`")
        if not yes:
            if output_format == "text":
                out.print("\nnothing applied: pass --yes to apply this rollback")
            else:
                from fbcm_dbt.cli import render
                from fbcm_dbt.planfile import plan_to_dict

                render.dump_json(out, plan_to_dict(report.plans, flags["api_version"]))
            _exit(report.exit_code)
        _finish(out, report, output_format, flags["api_version"])


def _hooks(out: Console, output_format: str, show_plan: bool = True) -> Any:
    """Render the plan before it is applied, and show progress while it is."""
    from fbcm_dbt.cli import render
    from fbcm_dbt.pipeline import Hooks

    settings = click.get_current_context().find_root().obj
    quiet = settings.get("quiet", False)
    # with JSON logs, one event per object is the point; with text logs it would drown the summary
    events_level = logging.INFO if settings.get("log_format") == "json" else logging.DEBUG
    progress = render.WriteProgress(enabled=output_format == "text" and not quiet, events_level=events_level)

    def on_plans(plans: Any, held: Any) -> None:
        if output_format == "text" and not quiet:
            render.held(out, held)
            if show_plan:
                render.plans(out, plans)
        progress.start(sum(len(p.changes) for p in plans))

    return Hooks(on_plans=on_plans, on_batch=progress.advance)


def _finish(out: Console, report: Any, output_format: str, api_version: str) -> NoReturn:
    from fbcm_dbt.cli import render
    from fbcm_dbt.planfile import plan_to_dict

    render.WriteProgress.stop_all()
    if output_format == "json":
        render.dump_json(out, {"run_id": report.run_id, "plan": plan_to_dict(report.plans, api_version),
                               "writes": render.writes_json(report), "stopped": report.stopped})
    else:
        out.print()
        render.summary(out, report)
    _exit(report.exit_code)


def _sync_options(flags: dict[str, Any]) -> Any:
    from fbcm_dbt.config import parse_guardrails
    from fbcm_dbt.dbt.backend import DbtProject
    from fbcm_dbt.pipeline import LedgerOptions, Selection, SyncOptions

    project_dir = (flags.get("project_dir") or params._default_project_dir()).resolve()
    if not (project_dir / "dbt_project.yml").exists():
        raise UsageError(f"no dbt_project.yml in {project_dir}: pass --project-dir")
    profiles_dir = (flags.get("profiles_dir") or params._default_profiles_dir()).resolve()
    overrides = {k: flags[k] for k in params.GUARDRAIL_OPTIONS if flags.get(k) is not None}
    return SyncOptions(
        project=DbtProject(project_dir=project_dir, profiles_dir=profiles_dir, target=flags.get("target"),
                           vars=_parse_vars(flags.get("vars_")), target_path=flags.get("target_path")),
        selection=Selection(tuple(flags.get("select") or ()), tuple(flags.get("exclude") or ()), flags.get("selector")),
        tag=flags.get("tag") or "fbcm",
        skip_build_check=bool(flags.get("skip_build_check")),
        guardrail_overrides=parse_guardrails(overrides, "command-line guardrails"),
        ledger=LedgerOptions(enabled=flags.get("ledger_enabled", False), schema=flags.get("ledger_schema"),
                             table=flags.get("ledger_table") or "fbcm_ledger"),
    )


def _client_settings(flags: dict[str, Any]) -> Any:
    from fbcm_dbt.meta.client import ClientSettings
    from fbcm_dbt.meta.pacing import PacingSettings

    version = flags["api_version"]
    if not (version.startswith("v") and version[1:].replace(".", "").isdigit()):
        raise UsageError(f"--api-version must look like v26.0, got {version!r}")
    pacing = PacingSettings(mutations_per_second=flags.get("max_writes_per_second") or None)
    return ClientSettings(graph_url=flags["graph_url"], api_version=version, pacing=pacing)


def _parse_vars(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise UsageError(f"--vars is not valid YAML: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError("--vars must be a YAML mapping, e.g. '{key: value}'")
    return value


@contextmanager
def _reporting() -> Iterator[Console]:
    """The stdout console; every FbcmError becomes its message on stderr and its exit code."""
    try:
        yield Console(highlight=False, soft_wrap=False)
    except FbcmError as exc:
        from fbcm_dbt.cli import render

        render.WriteProgress.stop_all()
        Console(stderr=True, highlight=False).print(f"[red]Error:[/] {redact(str(exc))}", markup=True)
        _exit(exc.exit_code)
    except KeyboardInterrupt:  # a second Ctrl-C while a run was finishing its batches in flight
        Console(stderr=True, highlight=False).print(
            "[red]Aborted.[/] Writes in flight may or may not have been applied: `fbcm plan` shows what is "
            "left, and target/fbcm_run_results.json what this run recorded.", markup=True)
        _exit(130)


def _exit(code: int) -> NoReturn:
    sys.exit(code)
