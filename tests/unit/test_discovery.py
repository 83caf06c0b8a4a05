"""Discovery and the build gate on plain manifest/run_results data."""

from pathlib import Path

import pytest

from fbcm_dbt.dbt.artifacts import Manifest, RunResults
from fbcm_dbt.dbt.discovery import discover, gate
from fbcm_dbt.errors import ConfigError

BLOCK = {"account_id": "act_1", "columns": {"id": "id", "status": "status"}}


def node(name, tags=(), meta=None, materialized="table"):
    return {f"model.p.{name}": {"unique_id": f"model.p.{name}", "name": name, "resource_type": "model",
                                "relation_name": None if materialized == "ephemeral" else f'"db"."main"."{name}"',
                                "database": "db", "schema": "main", "alias": name,
                                "config": {"tags": list(tags), "meta": meta or {}, "materialized": materialized}}}


def manifest(nodes=None, exposures=None, invocation="inv-1"):
    return Manifest(Path("manifest.json"), invocation, "1.11.0", "duckdb", nodes or {}, exposures or {})


def results(statuses, which="build", invocation="inv-1", empty=False):
    return RunResults(Path("run_results.json"), invocation, which, empty, False, statuses, {})


def test_tagged_model_with_block_is_managed_and_untagged_is_not():
    nodes = {**node("a", ["fbcm"], {"fbcm": BLOCK}), **node("b", [], {"fbcm": BLOCK}), **node("c", ["other"])}
    assert [m.name for m in discover(manifest(nodes))] == ["a"]


def test_exposure_of_type_application_declares_its_model():
    exposures = {"exposure.p.x": {"name": "x", "type": "application", "depends_on": {"nodes": ["model.p.b"]},
                                  "config": {"meta": {"fbcm": {**BLOCK, "model": "b"}}}}}
    (model,) = discover(manifest(node("b"), exposures))
    assert model.name == "b" and model.declared_by == "exposure:x"


@pytest.mark.parametrize("exposure, fragment", [
    ({"type": "dashboard", "depends_on": {"nodes": ["model.p.b"]}}, "type: application"),
    ({"type": "application", "depends_on": {"nodes": ["model.p.b"]}, "model": "zzz"}, "not among its depends_on"),
])
def test_bad_exposures_are_named(exposure, fragment):
    block = {**BLOCK, **({"model": exposure.pop("model")} if "model" in exposure else {})}
    exposures = {"exposure.p.x": {"name": "x", "meta": {"fbcm": block}, **exposure}}
    with pytest.raises(ConfigError) as error:
        discover(manifest(node("b"), exposures))
    assert "exposure x" in str(error.value) and fragment in str(error.value)


def test_every_invalid_block_is_listed_in_one_error():
    nodes = {**node("a", ["fbcm"], {"fbcm": {"columns": {"id": "x"}}}), **node("b", ["fbcm"])}
    with pytest.raises(ConfigError) as error:
        discover(manifest(nodes))
    assert "model a" in str(error.value) and "model b" in str(error.value)


def test_a_model_declared_twice_is_refused():
    exposures = {"exposure.p.x": {"name": "x", "type": "application", "depends_on": {"nodes": ["model.p.a"]},
                                  "meta": {"fbcm": BLOCK}}}
    with pytest.raises(ConfigError, match="declared twice"):
        discover(manifest(node("a", ["fbcm"], {"fbcm": BLOCK}), exposures))


def test_ephemeral_model_carries_its_refusal():
    (model,) = discover(manifest(node("a", ["fbcm"], {"fbcm": BLOCK}, materialized="ephemeral")))
    assert "ephemeral" in model.refusal


@pytest.mark.parametrize("run, ok, fragment", [
    (results({"model.p.a": "success"}), True, "built successfully"),
    (results({"model.p.a": "error"}), False, "'error'"),
    (results({}), False, "not part of the last"),
    (results({"model.p.a": "success"}, which="test"), False, "`test`"),
    (results({"model.p.a": "success"}, empty=True), False, "--empty"),
    (results({"model.p.a": "success"}, invocation="inv-2"), False, "different dbt invocations"),
    (None, False, "no run_results.json"),
])
def test_gate(run, ok, fragment):
    the_manifest = manifest(node("a", ["fbcm"], {"fbcm": BLOCK}))
    (model,) = discover(the_manifest)
    verdict = gate(model, the_manifest, run)
    assert verdict.ok is ok and fragment in verdict.reason
