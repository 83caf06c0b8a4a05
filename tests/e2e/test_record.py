"""Every change on record: the results file, the ledger table and the emulator agree row by row;
an interrupted run keeps its record and a rerun converges; rollback restores; logs are JSON lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from tests.conftest import run_fbcm
from tests.e2e.conftest import RULES_TOKEN, rules_state
from tests.e2e.test_example_sync import EXPECTED_CHANGES, assert_state


def ledger_rows(database_file, run_id=None) -> list[dict]:
    with duckdb.connect(str(database_file), read_only=True) as con:
        query = "select * from main.fbcm_ledger" + (f" where run_id = '{run_id}'" if run_id else "")
        cursor = con.execute(query)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def test_results_file_ledger_and_emulator_agree_after_a_mixed_run(rules_copy, rules_emulator):
    result = run_fbcm(["sync", "--select", "bad_rows", "--select", "lenient_go_on", "--output", "json"],
                      rules_copy, rules_emulator.url, RULES_TOKEN)
    assert result.code == 1
    run_id = result.json()["run_id"]
    results = json.loads((rules_copy / "target" / "fbcm_run_results.json").read_text())
    assert results["metadata"]["run_id"] == run_id
    recorded = [r for r in results["results"] if "field" in r]
    ledger = ledger_rows(rules_copy / "rules.duckdb", run_id)
    key = lambda r: (r["model"], str(r["object_id"]), str(r["field"]), r["outcome"])  # noqa: E731
    assert sorted(map(key, recorded)) == sorted(map(key, ledger))
    assert {r["outcome"] for r in ledger} == {"applied", "failed", "blocked", "invalid"}
    original = {o["id"]: o for kind in ("campaigns", "adsets", "ads") for o in rules_state()[kind]}
    for row in ledger:
        if row["object_id"] not in original or row["field"] not in ("status", "daily_budget", "lifetime_budget"):
            continue  # ids Meta does not know, or rows refused before any field was read
        live = rules_emulator.get_object(row["object_id"]).get(row["field"])
        expected = row["after_value"] if row["outcome"] == "applied" else original[row["object_id"]].get(row["field"])
        assert str(live) == str(expected), row
    failed = next(r for r in ledger if r["outcome"] == "failed")
    assert failed["object_id"] == "200000000000000015" and "did not take effect" in failed["message"]
    assert results["summary"]["applied"] == sum(1 for r in ledger if r["outcome"] == "applied")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_keeps_its_record_and_a_rerun_converges(rules_copy, signum):
    from fbcm_dbt.emulator import Emulator, Faults

    ids = ["200000000000000012", "200000000000000013", "200000000000000014"]
    with Emulator(rules_state(), faults=Faults(latency_ms=700)) as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FBCM_", "DBT_"))}
        env.update(FBCM_ACCESS_TOKEN=RULES_TOKEN, FBCM_GRAPH_URL=emu.url)
        proc = subprocess.Popen([sys.executable, "-m", "fbcm_dbt", "sync", "--select", "strict_stop", "--output",
                                 "json"], cwd=rules_copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 60
        while emu.counters().get("writes_applied", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        report = json.loads(out)
        outcomes = {w["object_id"]: w["outcome"] for w in report["writes"]}
        applied = {i for i, o in outcomes.items() if o == "applied"}
        assert applied and "not_attempted" in outcomes.values()
        changed = {i for i in ids if emu.get_object(i)["status"] == "PAUSED"}
        assert changed == applied
        ledger_applied = {r["object_id"] for r in ledger_rows(rules_copy / "rules.duckdb", report["run_id"])
                          if r["outcome"] == "applied"}
        assert ledger_applied == applied
        writes_before = emu.counters()["writes"]
        rerun = run_fbcm(["sync", "--select", "strict_stop"], rules_copy, emu.url, RULES_TOKEN)
        assert rerun.code == 0, rerun.stderr
        assert all(emu.get_object(i)["status"] == "PAUSED" for i in ids)
        assert emu.counters()["writes"] - writes_before == len(ids) - len(applied)  # nothing written twice


def test_rollback_restores_the_earlier_state_and_refuses_fields_changed_since(example_copy, emulator):
    sync = run_fbcm(["sync", "--output", "json"], example_copy, emulator.url)
    assert sync.code == 0, sync.stderr
    run_id = sync.json()["run_id"]
    assert_state(emulator, EXPECTED_CHANGES)

    preview = run_fbcm(["rollback", run_id], example_copy, emulator.url)
    assert preview.code == 0 and "pass --yes" in preview.stdout
    assert_state(emulator, EXPECTED_CHANGES)  # nothing applied without --yes

    emulator.patch_object("120220000000000205", daily_budget=7500)  # edited by hand after the run
    rolled = run_fbcm(["rollback", run_id, "--yes", "--output", "json"], example_copy, emulator.url)
    assert rolled.code == 1
    blocked = [i for m in rolled.json()["plan"]["models"] for i in m["items"] if i["action"] == "blocked"]
    assert [i["object_id"] for i in blocked] == ["120220000000000205"]
    assert "changed since the run" in blocked[0]["reasons"][-1]
    assert emulator.get_object("120220000000000205")["daily_budget"] == 7500
    assert_state(emulator, {"120220000000000205": {"daily_budget": 7500}})
    commands = {r["command"] for r in ledger_rows(example_copy / "example.duckdb")}
    assert commands == {"sync", f"rollback {run_id}"}


def test_rollback_of_an_unknown_run_is_a_clear_error(example_copy, emulator):
    run_fbcm(["sync"], example_copy, emulator.url)
    result = run_fbcm(["rollback", "20990101T000000Z-000000"], example_copy, emulator.url)
    assert result.code == 2 and "holds no applied change" in result.stderr


def test_budget_changes_of_earlier_runs_this_hour_defer_the_fifth(example_copy, emulator):
    adset = "120220000000000203"
    for budget in (3100, 3200, 3300):  # three earlier runs (another model of the table) changed this budget
        emulator.patch_object(adset, daily_budget=budget - 1)
        run_fbcm(["sync", "--select", "fb_jp_adset_budgets", "--max-budget-increase-pct", "off"],
                 example_copy, emulator.url)
    emulator.patch_object(adset, daily_budget=3000)
    fourth = run_fbcm(["sync", "--select", "fb_jp_adset_budgets", "--output", "json"], example_copy, emulator.url)
    assert {w["object_id"]: w["outcome"] for w in fourth.json()["writes"]}[adset] == "applied"
    emulator.patch_object(adset, daily_budget=3000)
    fifth = run_fbcm(["sync", "--select", "fb_jp_adset_budgets", "--output", "json"], example_copy, emulator.url)
    assert fifth.code == 0
    item = next(i for m in fifth.json()["plan"]["models"] for i in m["items"] if i["object_id"] == adset)
    assert item["action"] == "deferred" and "4 times in the last hour" in item["reasons"][0]
    assert emulator.get_object(adset)["daily_budget"] == 3000


def test_json_log_lines_parse_and_carry_one_event_per_object(example_copy, emulator):
    result = run_fbcm(["--log-format", "json", "sync"], example_copy, emulator.url)
    assert result.code == 0
    events = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert events and all({"info", "data"} <= e.keys() for e in events)
    objects = [e for e in events if e["info"]["name"] == "ObjectResult"]
    assert {e["data"]["object_id"] for e in objects} == set(EXPECTED_CHANGES)


def test_quiet_prints_only_the_summary(example_copy, emulator):
    result = run_fbcm(["--quiet", "sync"], example_copy, emulator.url)
    assert result.code == 0 and "120210000000000207" not in result.stdout and "applied" in result.stdout


def test_the_ledger_can_be_switched_off(example_copy, emulator):
    assert run_fbcm(["sync", "--no-ledger"], example_copy, emulator.url).code == 0
    with duckdb.connect(str(example_copy / "example.duckdb"), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    assert "fbcm_ledger" not in tables


def test_python_api_returns_typed_results(example_copy, emulator, monkeypatch):
    from fbcm_dbt import api
    from fbcm_dbt.apply import Outcome

    monkeypatch.chdir(example_copy)
    environ = {"FBCM_ACCESS_TOKEN": "example-token", "FBCM_GRAPH_URL": emulator.url}
    run_options = api.options(example_copy, select=["fb_jp_adset_budgets"])
    plans = api.plan(run_options, environ=environ)
    assert [p.model for p in plans] == ["fb_jp_adset_budgets"] and len(plans[0].changes) == 3
    report = api.sync(run_options, environ=environ)
    assert report.exit_code == 0 and {w.outcome for w in report.writes} == {Outcome.APPLIED}
    assert report.results_path and report.results_path.exists()


def test_the_example_report_model_reads_the_ledger(example_copy, emulator):
    from tests.conftest import run_dbt

    assert run_fbcm(["sync"], example_copy, emulator.url).code == 0
    run_dbt(["run", "--select", "fbcm_changes_per_day", "--vars", "{fbcm_ledger_reports: true}"], example_copy)
    with duckdb.connect(str(example_copy / "example.duckdb"), read_only=True) as con:
        rows = con.execute("select model, paused, activated, budget_raised_minor, budget_lowered_minor "
                           "from main.fbcm_changes_per_day order by model").fetchall()
    assert rows == [("fb_br_desired_state", 4, 0, 8000 + 1600 + 900, 0), ("fb_jp_adset_budgets", 1, 0, 600 + 1200, 0)]
