"""Tolerant readers of manifest.json (v12) and run_results.json (v6).

Plain JSON on purpose: no dbt import (fast, and works for artifacts written by any dbt engine),
and unknown keys are ignored because dbt adds fields within a schema version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from fbcm_dbt.errors import ArtifactError

SUPPORTED_MANIFEST_VERSIONS = frozenset({12})
SUPPORTED_RUN_RESULTS_VERSIONS = frozenset({6})


@dataclass(frozen=True)
class Manifest:
    path: Path
    invocation_id: str | None
    dbt_version: str | None
    adapter_type: str | None
    nodes: Mapping[str, Mapping[str, Any]]
    exposures: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class RunResults:
    path: Path
    invocation_id: str | None
    command: str | None
    empty: bool
    sample: bool
    statuses: Mapping[str, str]
    messages: Mapping[str, str]


def load_manifest(target_dir: Path) -> Manifest:
    path = target_dir / "manifest.json"
    doc = _read_json(path, "run `dbt build` (or `dbt run`) first, or point --project-dir/--target-path at the project")
    version = _schema_version(doc, "manifest", path)
    if version not in SUPPORTED_MANIFEST_VERSIONS:
        raise ArtifactError(
            f"{path} is manifest v{version}; fbcm reads v12 (dbt-core 1.8 to 1.11). "
            "Rebuild it with a supported dbt version."
        )
    meta = doc.get("metadata") or {}
    return Manifest(
        path=path,
        invocation_id=meta.get("invocation_id"),
        dbt_version=meta.get("dbt_version"),
        adapter_type=meta.get("adapter_type"),
        nodes=doc.get("nodes") or {},
        exposures=doc.get("exposures") or {},
    )


def load_run_results(target_dir: Path) -> RunResults | None:
    """The last run's results, or None when dbt has not written any."""
    path = target_dir / "run_results.json"
    if not path.exists():
        return None
    doc = _read_json(path, "rerun dbt")
    version = _schema_version(doc, "run-results", path)
    if version not in SUPPORTED_RUN_RESULTS_VERSIONS:
        raise ArtifactError(f"{path} is run_results v{version}; fbcm reads v6. Rebuild with a supported dbt version.")
    args = doc.get("args") or {}
    results = doc.get("results") or []
    return RunResults(
        path=path,
        invocation_id=(doc.get("metadata") or {}).get("invocation_id"),
        command=args.get("which"),
        empty=bool(args.get("empty")),
        sample=bool(args.get("sample")),
        statuses={r["unique_id"]: str(r.get("status")) for r in results if "unique_id" in r},
        messages={r["unique_id"]: str(r.get("message") or "") for r in results if "unique_id" in r},
    )


def _read_json(path: Path, hint: str) -> dict[str, Any]:
    if not path.exists():
        raise ArtifactError(f"{path} does not exist: {hint}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path} cannot be read as JSON ({exc}); {hint}") from None
    if not isinstance(doc, dict):
        raise ArtifactError(f"{path} is not a dbt artifact; {hint}")
    return doc


def _schema_version(doc: Mapping[str, Any], kind: str, path: Path) -> int:
    url = str((doc.get("metadata") or {}).get("dbt_schema_version") or "")
    match = re.search(rf"/{kind}/v(\d+)\.json$", url)
    if not match:
        raise ArtifactError(f"{path} has no dbt {kind} schema version; is it a dbt artifact?")
    return int(match.group(1))
