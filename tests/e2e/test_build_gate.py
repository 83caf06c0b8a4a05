"""A model is synced only if the dbt run behind the manifest built it successfully, for real."""

from __future__ import annotations

import json

from tests.conftest import run_dbt, run_fbcm


def edit_run_results(project, **args):
    path = project / "target" / "run_results.json"
    doc = json.loads(path.read_text())
    doc["args"].update(args)
    path.write_text(json.dumps(doc))


def test_an_empty_run_is_never_synced(example_copy, emulator):
    run_dbt(["run", "--empty"], example_copy)
    result = run_fbcm(["sync"], example_copy, emulator.url)
    assert result.code == 0
    assert "--empty" in result.stdout and "skipped model fb_br_desired_state" in result.stdout
    assert emulator.counters()["writes"] == 0


def test_after_dbt_test_the_model_status_is_unknown_and_it_is_skipped(example_copy, emulator):
    run_dbt(["test"], example_copy)
    result = run_fbcm(["sync"], example_copy, emulator.url)
    assert "the last dbt command was `test`" in result.stdout
    assert emulator.counters()["writes"] == 0


def test_a_sample_run_is_refused(example_copy, emulator):
    edit_run_results(example_copy, sample="1 day")
    result = run_fbcm(["ls"], example_copy)
    assert "--sample" in result.stdout


def test_artifacts_from_different_invocations_are_refused(example_copy, emulator):
    run_dbt(["parse"], example_copy)  # rewrites manifest.json with a new invocation id
    result = run_fbcm(["sync"], example_copy, emulator.url)
    assert "different dbt invocations" in result.stdout
    assert emulator.counters()["writes"] == 0


def test_a_model_whose_build_failed_is_skipped_with_the_reason(example_copy, emulator):
    sql = example_copy / "models" / "marts" / "fb_jp_adset_budgets.sql"
    sql.write_text(sql.read_text() + "\n and no_such_column = 1\n")
    assert run_dbt(["build"], example_copy, check=False).returncode == 1
    result = run_fbcm(["sync", "--output", "json"], example_copy, emulator.url)
    models = [m["model"] for m in result.json()["plan"]["models"]]
    assert models == ["fb_br_desired_state"]


def test_skip_build_check_overrides_the_gate(example_copy, emulator):
    edit_run_results(example_copy, which="test")
    assert "not run/build" in run_fbcm(["ls"], example_copy).stdout
    result = run_fbcm(["sync", "--skip-build-check", "--select", "fb_jp_adset_budgets"], example_copy, emulator.url)
    assert result.code == 0 and emulator.counters()["writes"] == 3


def test_ephemeral_models_are_refused_with_the_reason(example_copy, emulator):
    schema = example_copy / "models" / "marts" / "schema.yml"
    schema.write_text(schema.read_text().replace('tags: ["fbcm"]', 'tags: ["fbcm"]\n      materialized: ephemeral', 1))
    run_dbt(["build"], example_copy)
    result = run_fbcm(["ls"], example_copy)
    assert "ephemeral" in result.stdout
