"""Python API for orchestrators (Dagster, Airflow, scripts): the CLI's runs, returning typed results.

    from fbcm_dbt import api
    report = api.sync(api.options("analytics", target="prod"))
    if report.exit_code:
        raise RuntimeError([w.message for w in report.writes if w.outcome.value == "failed"])

The token comes from FBCM_ACCESS_TOKEN (and FBCM_APP_SECRET) in `environ`, never from an argument
that could end up in an orchestrator's logged run config.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from fbcm_dbt.config import parse_guardrails
from fbcm_dbt.dbt.backend import DbtProject
from fbcm_dbt.meta.client import DEFAULT_API_VERSION, DEFAULT_GRAPH_URL, ClientSettings
from fbcm_dbt.pipeline import (
    Hooks, LedgerOptions, budget_history, RunReport, Selection, SyncOptions, client_from_env, find_targets, plan_inputs,
    read_desired, run_apply, run_rollback, run_sync,
)
from fbcm_dbt.plan import ModelPlan
from fbcm_dbt.planfile import load_plan

__all__ = ["options", "plan", "apply", "sync", "rollback", "RunReport", "ModelPlan"]


def options(project_dir: str | Path = ".", *, profiles_dir: str | Path | None = None, target: str | None = None,
            vars: Mapping[str, Any] | None = None, select: Sequence[str] = (), exclude: Sequence[str] = (),
            selector: str | None = None, tag: str = "fbcm", skip_build_check: bool = False,
            guardrails: Mapping[str, Any] | None = None, ledger: bool = True, ledger_schema: str | None = None,
            ledger_table: str = "fbcm_ledger") -> SyncOptions:
    """SyncOptions as the CLI builds them (profiles_dir defaults to the project dir here)."""
    project = Path(project_dir).resolve()
    return SyncOptions(
        project=DbtProject(project, Path(profiles_dir).resolve() if profiles_dir else project, target, dict(vars or {})),
        selection=Selection(tuple(select), tuple(exclude), selector),
        tag=tag,
        skip_build_check=skip_build_check,
        guardrail_overrides=parse_guardrails(dict(guardrails or {}), "guardrails"),
        ledger=LedgerOptions(ledger, ledger_schema, ledger_table),
    )


def _settings(graph_url: str | None, api_version: str | None, environ: Mapping[str, str]) -> ClientSettings:
    return ClientSettings(graph_url=graph_url or environ.get("FBCM_GRAPH_URL") or DEFAULT_GRAPH_URL,
                          api_version=api_version or environ.get("FBCM_API_VERSION") or DEFAULT_API_VERSION)


def plan(run_options: SyncOptions, *, graph_url: str | None = None, api_version: str | None = None,
         environ: Mapping[str, str] = os.environ) -> list[ModelPlan]:
    """The field-level plan of every managed model that passes the build gate; writes nothing."""
    discovery = find_targets(run_options)
    inputs = read_desired(run_options, discovery.ready)
    history = budget_history(run_options)
    with client_from_env(_settings(graph_url, api_version, environ), environ) as client:
        return plan_inputs(client, inputs, run_options.guardrail_overrides, history)


def sync(run_options: SyncOptions, *, graph_url: str | None = None, api_version: str | None = None,
         hooks: Hooks = Hooks(), environ: Mapping[str, str] = os.environ) -> RunReport:
    """Plan and apply, on record (results file and ledger)."""
    return run_sync(run_options, _settings(graph_url, api_version, environ), hooks=hooks, environ=environ)


def apply(plan_or_file: Sequence[ModelPlan] | str | Path, run_options: SyncOptions, *, graph_url: str | None = None,
          api_version: str | None = None, environ: Mapping[str, str] = os.environ) -> RunReport:
    """Apply a plan (from `plan()` or a file saved by `fbcm plan -o`), refusing drifted objects."""
    plans = load_plan(Path(plan_or_file)) if isinstance(plan_or_file, (str, Path)) else list(plan_or_file)
    return run_apply(plans, run_options, _settings(graph_url, api_version, environ), environ=environ)


def rollback(run_id: str, run_options: SyncOptions, *, execute: bool = False, graph_url: str | None = None,
             api_version: str | None = None, environ: Mapping[str, str] = os.environ) -> RunReport:
    """Plan (and with execute=True apply) the return of a run's changes to their before-values."""
    return run_rollback(run_id, run_options, _settings(graph_url, api_version, environ), apply=execute,
                        environ=environ)
