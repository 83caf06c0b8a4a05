"""Which dbt models fbcm manages, and whether the last dbt build lets them be synced.

A model is managed when it carries the fbcm tag and an `fbcm` meta block, or when an exposure of
type `application` holds the block and names the model among its dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from fbcm_dbt.config import META_KEY, SyncSpec, parse_spec
from fbcm_dbt.dbt.artifacts import Manifest, RunResults
from fbcm_dbt.errors import ConfigError

DEFAULT_TAG = "fbcm"


@dataclass(frozen=True)
class ManagedModel:
    unique_id: str
    name: str
    relation_name: str | None
    database: str | None
    schema: str | None
    identifier: str | None
    materialized: str | None
    declared_by: str
    spec: SyncSpec

    @property
    def refusal(self) -> str | None:
        """Why this model can never be read, whatever the last build did."""
        if self.materialized == "ephemeral" or not self.relation_name:
            return "ephemeral models have no relation in the warehouse to read; materialize it as a table or view"
        return None


@dataclass(frozen=True)
class GateVerdict:
    ok: bool
    reason: str


def discover(manifest: Manifest, tag: str = DEFAULT_TAG) -> list[ManagedModel]:
    """Every managed model, or one ConfigError that lists every invalid block."""
    found: dict[str, ManagedModel] = {}
    problems: list[str] = []
    for uid, node in manifest.nodes.items():
        if node.get("resource_type") != "model":
            continue
        config = node.get("config") or {}
        tags = config.get("tags") or node.get("tags") or []
        meta = _meta(node)
        if tag in tags and META_KEY in meta:
            _collect(found, problems, node, meta[META_KEY], f"tag:{tag}")
        elif tag in tags:
            problems.append(f"model {node.get('name')}: tagged '{tag}' but has no meta.{META_KEY} block (under config:)")
    for uid, exposure in manifest.exposures.items():
        block = _meta(exposure).get(META_KEY)
        if block is None:
            continue
        name = exposure.get("name", uid)
        if exposure.get("type") != "application":
            problems.append(f"exposure {name}: carries meta.{META_KEY} but is of type {exposure.get('type')!r}; use type: application")
            continue
        node = _exposure_model(manifest, exposure, block, problems)
        if node is not None:
            _collect(found, problems, node, block, f"exposure:{name}", exposure_block=True)
    if problems:
        raise ConfigError("invalid fbcm configuration:\n  - " + "\n  - ".join(problems))
    return sorted(found.values(), key=lambda m: m.name)


def gate(model: ManagedModel, manifest: Manifest, run_results: RunResults | None) -> GateVerdict:
    """May this model be synced, judging by the dbt run that produced the manifest?"""
    if run_results is None:
        return GateVerdict(False, "no run_results.json: run `dbt build` (or `dbt run`) first")
    if manifest.invocation_id and run_results.invocation_id != manifest.invocation_id:
        return GateVerdict(
            False,
            "run_results.json and manifest.json come from different dbt invocations "
            f"(last command: {run_results.command}); rerun `dbt build` right before fbcm",
        )
    if run_results.command not in {"run", "build"}:
        return GateVerdict(False, f"the last dbt command was `{run_results.command}`, not run/build")
    if run_results.empty or run_results.sample:
        flag = "--empty" if run_results.empty else "--sample"
        return GateVerdict(False, f"the last dbt run used {flag}: its tables do not hold the real desired state")
    status = run_results.statuses.get(model.unique_id)
    if status is None:
        return GateVerdict(False, "the model was not part of the last dbt run/build")
    if status != "success":
        message = run_results.messages.get(model.unique_id, "")
        return GateVerdict(False, f"the model's last build status is '{status}'" + (f": {message}" if message else ""))
    return GateVerdict(True, "built successfully by the last dbt run")


def _collect(found: dict[str, ManagedModel], problems: list[str], node: Mapping[str, Any], block: Any,
             declared_by: str, exposure_block: bool = False) -> None:
    name = node.get("name", node["unique_id"])
    owner = declared_by.replace(":", " ", 1) if exposure_block else f"model {name}"
    try:
        spec = parse_spec(block, owner, allow_model_key=exposure_block)
    except ConfigError as exc:
        problems.append(str(exc))
        return
    uid = node["unique_id"]
    if uid in found:
        problems.append(f"model {name}: declared twice ({found[uid].declared_by} and {declared_by}); keep one fbcm block")
        return
    config = node.get("config") or {}
    found[uid] = ManagedModel(
        unique_id=uid,
        name=name,
        relation_name=node.get("relation_name"),
        database=node.get("database"),
        schema=node.get("schema"),
        identifier=node.get("alias") or name,
        materialized=config.get("materialized"),
        declared_by=declared_by,
        spec=spec,
    )


def _exposure_model(manifest: Manifest, exposure: Mapping[str, Any], block: Any,
                    problems: list[str]) -> Mapping[str, Any] | None:
    name = exposure.get("name")
    models = [u for u in (exposure.get("depends_on") or {}).get("nodes") or [] if u.startswith("model.")]
    wanted = block.get("model") if isinstance(block, Mapping) else None
    if wanted is None and len(models) == 1:
        return manifest.nodes.get(models[0])
    if wanted is None:
        problems.append(f"exposure {name}: meta.{META_KEY}.model must name the model to sync (it depends on {len(models)} models)")
        return None
    matches = [u for u in models if (manifest.nodes.get(u) or {}).get("name") == wanted]
    if not matches:
        problems.append(f"exposure {name}: meta.{META_KEY}.model '{wanted}' is not among its depends_on models")
        return None
    return manifest.nodes[matches[0]]


def _meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    config_meta = (node.get("config") or {}).get("meta") or {}
    return {**(node.get("meta") or {}), **config_meta}

