"""The seed's options: continue_on_error, log_payload, budgets_in_account_currency."""

from __future__ import annotations

from tests.conftest import run_fbcm
from tests.e2e.conftest import RULES_TOKEN


def test_continue_on_error_off_stops_the_model_at_the_first_failed_object(rules_copy, rules_emulator):
    # 200000000000000012 answers success but does not change (a silent no-op): read-after-write catches it
    result = run_fbcm(["sync", "--select", "strict_stop", "--output", "json"], rules_copy, rules_emulator.url,
                      RULES_TOKEN)
    assert result.code == 1
    outcomes = {w["object_id"]: w["outcome"] for w in result.json()["writes"]}
    assert outcomes == {"200000000000000012": "failed", "200000000000000013": "not_attempted",
                        "200000000000000014": "not_attempted"}
    failure = next(w for w in result.json()["writes"] if w["outcome"] == "failed")
    assert "did not take effect" in failure["message"]
    for object_id in ("200000000000000013", "200000000000000014"):
        assert rules_emulator.get_object(object_id)["status"] == "ACTIVE"


def test_continue_on_error_on_records_the_failure_and_goes_on(rules_copy, rules_emulator):
    result = run_fbcm(["sync", "--select", "lenient_go_on", "--output", "json"], rules_copy, rules_emulator.url,
                      RULES_TOKEN)
    assert result.code == 1
    outcomes = {w["object_id"]: w["outcome"] for w in result.json()["writes"]}
    assert outcomes == {"200000000000000015": "failed", "200000000000000016": "applied",
                        "200000000000000019": "applied"}
    assert rules_emulator.get_object("200000000000000016")["status"] == "PAUSED"


def test_log_payload_logs_the_fields_sent_and_never_the_token(rules_copy, rules_emulator):
    result = run_fbcm(["sync", "--select", "lenient_go_on"], rules_copy, rules_emulator.url, RULES_TOKEN)
    payload_lines = [line for line in result.stderr.splitlines() if "200000000000000016" in line]
    assert payload_lines and "'status': 'PAUSED'" in payload_lines[0]
    assert RULES_TOKEN not in result.stderr + result.stdout


def test_payload_is_not_logged_without_log_payload(rules_copy, rules_emulator):
    result = run_fbcm(["sync", "--select", "strict_stop"], rules_copy, rules_emulator.url, RULES_TOKEN)
    assert "'status': 'PAUSED'" not in result.stderr


def test_budgets_in_account_currency_use_the_jpy_offset_of_one(rules_copy, rules_emulator):
    result = run_fbcm(["sync", "--select", "jpy_in_currency", "--output", "json"], rules_copy, rules_emulator.url,
                      RULES_TOKEN)
    assert rules_emulator.get_object("400000000000000001")["daily_budget"] == 6000  # ¥6,000, not ¥600,000
    items = {i["object_id"]: i for i in result.json()["plan"]["models"][0]["items"]}
    assert items["400000000000000002"]["action"] == "blocked"
    assert "whole number of minor units" in " ".join(items["400000000000000002"]["reasons"])
    assert rules_emulator.get_object("400000000000000002")["daily_budget"] == 5000
