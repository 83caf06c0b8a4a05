"""fbcm plan / apply: a field-level diff that writes nothing, saved plans applied exactly, drift refused."""

from __future__ import annotations

import json

from tests.conftest import run_fbcm
from tests.e2e.test_example_sync import EXPECTED_CHANGES, assert_state


def test_plan_shows_field_changes_and_writes_nothing(example_copy, emulator):
    result = run_fbcm(["plan"], example_copy, emulator.url)
    assert result.code == 0, result.stderr
    assert emulator.counters()["writes"] == 0
    assert_state(emulator, {})
    line = next(l for l in result.stdout.splitlines() if "120210000000000207" in l)
    assert "status" in line and "ACTIVE" in line and "PAUSED" in line
    assert "BRL 400.00 (40000)" in result.stdout and "BRL 480.00 (48000)" in result.stdout


def test_detailed_exitcode_says_whether_changes_are_pending(example_copy, emulator):
    assert run_fbcm(["plan", "--detailed-exitcode"], example_copy, emulator.url).code == 2
    assert run_fbcm(["sync"], example_copy, emulator.url).code == 0
    assert run_fbcm(["plan", "--detailed-exitcode"], example_copy, emulator.url).code == 0


def test_json_plan_lists_every_object_with_before_and_after(example_copy, emulator):
    result = run_fbcm(["plan", "--output", "json"], example_copy, emulator.url)
    doc = result.json()
    changes = {i["object_id"]: {c["field"]: c["after"] for c in i["changes"]}
               for m in doc["models"] for i in m["items"] if i["action"] == "change"}
    assert changes == EXPECTED_CHANGES
    assert all(isinstance(i["object_id"], str) for m in doc["models"] for i in m["items"])


def test_saved_plan_applies_exactly(example_copy, emulator, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert run_fbcm(["plan", "-o", str(plan_file)], example_copy, emulator.url).code == 0
    assert emulator.counters()["writes"] == 0
    result = run_fbcm(["apply", str(plan_file)], example_copy, emulator.url)
    assert result.code == 0, result.stdout + result.stderr
    assert_state(emulator, EXPECTED_CHANGES)


def test_saved_plan_refuses_objects_changed_behind_its_back(example_copy, emulator, tmp_path):
    plan_file = tmp_path / "plan.json"
    run_fbcm(["plan", "-o", str(plan_file)], example_copy, emulator.url)
    emulator.patch_object("120210000000000203", daily_budget=8500)  # someone edited it in Ads Manager
    result = run_fbcm(["apply", str(plan_file), "--output", "json"], example_copy, emulator.url)
    assert result.code == 1
    item = next(i for m in result.json()["plan"]["models"] for i in m["items"] if i["object_id"] == "120210000000000203")
    assert item["action"] == "blocked" and "drifted" in " ".join(item["reasons"])
    assert emulator.get_object("120210000000000203")["daily_budget"] == 8500
    assert_state_except = {k: v for k, v in EXPECTED_CHANGES.items() if k != "120210000000000203"}
    after = {k: emulator.get_object(k) for k in assert_state_except}
    assert all(after[k].get(f) == v for k, c in assert_state_except.items() for f, v in c.items())


def test_validate_asks_meta_and_changes_nothing(example_copy, emulator):
    result = run_fbcm(["plan", "--validate", "--output", "json"], example_copy, emulator.url)
    assert result.code == 0, result.stderr
    outcomes = {v["object_id"]: v["outcome"] for v in result.json()["validation"]}
    assert outcomes == {i: "validated" for i in EXPECTED_CHANGES}
    assert emulator.counters()["writes_applied"] == 0
    assert_state(emulator, {})


def test_validate_reports_meta_refusals_per_object(example_copy, emulator):
    import requests

    # four budget changes within the hour: Meta refuses a fifth (613/1487632), which fbcm cannot see coming
    for budget in (8100, 8200, 8300, 8000):
        response = requests.post(f"{emulator.url}/v26.0/120210000000000203",
                                 data={"daily_budget": budget, "access_token": "example-token"}, timeout=10)
        assert response.json() == {"success": True}
    result = run_fbcm(["plan", "--validate", "--output", "json"], example_copy, emulator.url)
    assert result.code == 0  # a change Meta defers for an hour is reported, not an error
    verdicts = {v["object_id"]: v for v in result.json()["validation"]}
    assert verdicts["120210000000000203"]["outcome"] == "deferred"
    assert verdicts["120210000000000203"]["error"]["subcode"] == 1487632
    assert verdicts["120210000000000101"]["outcome"] == "validated"
    assert emulator.get_object("120210000000000203")["daily_budget"] == 8000


def test_guardrail_override_from_the_command_line(example_copy, emulator):
    result = run_fbcm(["sync", "--max-budget-increase-pct", "10", "--output", "json"], example_copy, emulator.url)
    assert result.code == 1
    blocked = {i["object_id"] for m in result.json()["plan"]["models"] for i in m["items"] if i["action"] == "blocked"}
    raised = {i for i, c in EXPECTED_CHANGES.items() if "daily_budget" in c}
    assert blocked == raised
    assert_state(emulator, {i: c for i, c in EXPECTED_CHANGES.items() if i not in raised})


def test_blast_radius_breaker_refuses_the_whole_model(example_copy, emulator):
    result = run_fbcm(["sync", "--max-changed-fraction", "0.1", "--select", "fb_br_desired_state"],
                      example_copy, emulator.url)
    assert result.code == 1 and "max_changed_fraction" in result.stdout
    assert emulator.counters()["writes"] == 0


def test_plan_file_holds_no_token(example_copy, emulator, tmp_path):
    plan_file = tmp_path / "plan.json"
    run_fbcm(["plan", "-o", str(plan_file)], example_copy, emulator.url)
    text = plan_file.read_text()
    assert "example-token" not in text and json.loads(text)["fbcm_plan_version"] == 1


def test_markdown_plan_for_a_ci_job_summary(example_copy, emulator):
    result = run_fbcm(["plan", "--output", "markdown"], example_copy, emulator.url)
    assert result.code == 0
    row = next(line for line in result.stdout.splitlines() if "120220000000000202" in line)
    assert row.startswith("| change |") and "JP \\| " in row and "| status | ACTIVE | PAUSED |" in row
    assert emulator.counters()["writes"] == 0


def test_a_tampered_plan_file_is_refused_before_any_call(example_copy, emulator, tmp_path):
    plan_file = tmp_path / "plan.json"
    run_fbcm(["plan", "-o", str(plan_file)], example_copy, emulator.url)
    doc = json.loads(plan_file.read_text())
    item = next(i for m in doc["models"] for i in m["items"] if i["changes"])
    item["changes"][0]["after"] = 5000.5 if item["changes"][0]["field"] != "status" else "DELETED"
    plan_file.write_text(json.dumps(doc))
    emulator.reset_counters()
    result = run_fbcm(["apply", str(plan_file)], example_copy, emulator.url)
    assert result.code == 2 and "damaged" in result.stderr
    assert emulator.counters()["http_requests"] == 0
