"""`fbcm` commands. Each command only turns flags into options, calls the pipeline, renders, exits."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, NoReturn

import click
import yaml
from rich.console import Console

from fbcm_dbt import __version__
from fbcm_dbt.cli import params
from fbcm_dbt.errors import FbcmError, UsageError

TOKEN_ENVS = ("FBCM_ACCESS_TOKEN", "FBCM_APP_SECRET")


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
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              envvar="FBCM_LOG_LEVEL", show_default=True, help="Log lines on stderr.")
def cli(log_level: str) -> None:
    """Apply the desired state of Meta campaigns, ad sets and ads kept in dbt models."""
    _configure_logging(log_level)


@cli.command("ls")
@params.dbt_options
@params.selection_options
def ls_command(**flags: Any) -> None:
    """List the managed models, their column mapping and whether the last build lets them sync."""
    from fbcm_dbt import pipeline
    from fbcm_dbt.cli import render

    with _reporting() as out:
        render.targets(out, pipeline.find_targets(_sync_options(flags)))


@cli.command("validate")
@params.dbt_options
@params.selection_options
def validate_command(**flags: Any) -> None:
    """Check every row of the managed models offline: no call to Meta."""
    from fbcm_dbt import pipeline
    from fbcm_dbt.cli import render

    with _reporting() as out:
        options = _sync_options(flags)
        ready, held = _split(pipeline.find_targets(options))
        render.held(out, held)
        inputs = pipeline.read_desired(options, ready)
        render.validation(out, inputs)
        _exit(1 if any(i.desired.issues for i in inputs) else 0)


@cli.command("plan")
@params.dbt_options
@params.selection_options
@params.meta_options
@params.guardrail_options
@params.validate
@params.out_file
@params.output_format
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
        ready, held = _split(pipeline.find_targets(options))
        inputs = pipeline.read_desired(options, ready)
        with pipeline.client_from_env(_client_settings(flags)) as client:
            plans = pipeline.plan_inputs(client, inputs, options.guardrail_overrides)
            verdicts = pipeline.apply_plans(client, plans, validate_only=True) if validate else None
        if out_file:
            save_plan(out_file, plans, flags["api_version"])
        if output_format == "json":
            doc = plan_to_dict(plans, flags["api_version"])
            if verdicts is not None:
                doc["validation"] = render.writes_json(verdicts)
            render.dump_json(out, doc)
        else:
            render.held(out, held)
            render.plans(out, plans, show_unchanged)
            if verdicts is not None:
                render.summary(out, verdicts)
            if out_file:
                out.print(f"\nplan saved to {out_file}; apply it with `fbcm apply {out_file}`")
        report = verdicts or pipeline.RunReport(tuple(plans))
        pending = any(p.changes for p in plans)
        _exit(report.exit_code or (2 if detailed_exitcode and pending else 0))


@cli.command("apply")
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@params.meta_options
@params.output_format
def apply_command(plan_file: Path, output_format: str, **flags: Any) -> None:
    """Apply exactly a saved plan; objects whose live values changed since are refused."""
    from fbcm_dbt import pipeline
    from fbcm_dbt.cli import render
    from fbcm_dbt.planfile import load_plan

    with _reporting() as out:
        plans = load_plan(plan_file)
        with pipeline.client_from_env(_client_settings(flags)) as client:
            checked = pipeline.drift_check(client, plans)
            report = pipeline.apply_plans(client, checked)
        _finish(out, report, output_format, flags["api_version"])


@cli.command("sync")
@params.dbt_options
@params.selection_options
@params.meta_options
@params.guardrail_options
@params.output_format
def sync_command(output_format: str, **flags: Any) -> None:
    """Plan against live Meta state and apply what differs."""
    with _reporting() as out:
        _sync(out, _sync_options(flags), flags, output_format, build_statuses=None)


@cli.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--dbt-command", type=click.Choice(["build", "run"]), default="build", show_default=True,
              help="The dbt command to run before syncing.")
@params.dbt_options
@params.selection_options
@params.meta_options
@params.guardrail_options
@params.output_format
@click.pass_context
def run_command(ctx: click.Context, dbt_command: str, output_format: str, **flags: Any) -> None:
    """Run `dbt build` in-process, then sync exactly the managed models it built successfully.

    Arguments fbcm does not know are passed to dbt unchanged.
    """
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
        _sync(out, options, flags, output_format, build_statuses=outcome.statuses)


def _sync(out: Console, options: Any, flags: dict[str, Any], output_format: str,
          build_statuses: dict[str, str] | None) -> None:
    from fbcm_dbt import pipeline
    from fbcm_dbt.cli import render

    ready, held = _split(pipeline.find_targets(options, build_statuses))
    inputs = pipeline.read_desired(options, ready)
    with pipeline.client_from_env(_client_settings(flags)) as client:
        plans = pipeline.plan_inputs(client, inputs, options.guardrail_overrides)
        if output_format == "text":
            render.held(out, held)
            render.plans(out, plans)
        report = pipeline.apply_plans(client, plans)
    _finish(out, report, output_format, flags["api_version"])


def _finish(out: Console, report: Any, output_format: str, api_version: str) -> NoReturn:
    from fbcm_dbt.cli import render
    from fbcm_dbt.planfile import plan_to_dict

    if output_format == "json":
        render.dump_json(out, {"plan": plan_to_dict(report.plans, api_version), "writes": render.writes_json(report),
                               "stopped": report.stopped})
    else:
        out.print()
        render.summary(out, report)
    _exit(report.exit_code)


def _sync_options(flags: dict[str, Any]) -> Any:
    from fbcm_dbt.config import parse_guardrails
    from fbcm_dbt.dbt.backend import DbtProject
    from fbcm_dbt.pipeline import Selection, SyncOptions

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
    )


def _client_settings(flags: dict[str, Any]) -> Any:
    from fbcm_dbt.meta.client import ClientSettings

    version = flags["api_version"]
    if not (version.startswith("v") and version[1:].replace(".", "").isdigit()):
        raise UsageError(f"--api-version must look like v26.0, got {version!r}")
    return ClientSettings(graph_url=flags["graph_url"], api_version=version)


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


def _split(targets: list[Any]) -> tuple[list[Any], list[Any]]:
    return [t.model for t in targets if t.verdict.ok], [t for t in targets if not t.verdict.ok]


@contextmanager
def _reporting() -> Iterator[Console]:
    """The stdout console; every FbcmError becomes its message on stderr and its exit code."""
    try:
        yield Console(highlight=False, soft_wrap=False)
    except FbcmError as exc:
        Console(stderr=True, highlight=False).print(f"[red]Error:[/] {_redact(str(exc))}")
        _exit(exc.exit_code)


def _exit(code: int) -> NoReturn:
    sys.exit(code)


class _RedactSecrets(logging.Filter):
    """Last line of defence: no log line may carry the token or app secret, whatever formatted it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _redact(text: str) -> str:
    for name in TOKEN_ENVS:
        secret = os.environ.get(name, "").strip()
        if len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(_RedactSecrets())
    root = logging.getLogger("fbcm")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
