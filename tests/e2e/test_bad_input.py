"""Each kind of bad input: a clear error naming model, id and column, no write for that row, and
the other rows still applied. One real sync of the `bad_rows` model serves every assertion."""

from __future__ import annotations

import pytest

from tests.conftest import private_copy, run_fbcm
from tests.e2e.conftest import RULES_TOKEN, rules_state

BAD = {
    "(row 1)": ("object_id", "scientific notation"),
    "(row 2)": ("object_id", "not numeric"),
    "(row 3)": ("object_id", "empty"),
    "200000000000000003": ("object_id", "appears in 2 rows"),
    "200000000000000004": ("desired_status", "'enabled' is not one of ACTIVE, PAUSED"),
    "200000000000000005": ("daily_budget", "must be positive"),
    "200000000000000006": ("daily_budget", "must be positive"),
    "200000000000000007": ("daily_budget", "not a whole number of minor units"),
    "200000000000000017": ("daily_budget", "larger than Meta accepts"),
    "200000000000000018": ("daily_budget, lifetime_budget", "one budget type"),
    "999999999999999999": ("object_id", "does not exist"),
}
BLOCKED = {
    "300000000000000001": "ads have no budget",
    "900000000000000001": "belongs to act_2",
    "200000000000000020": "1885621",
    "200000000000000021": "below the account's minimum of 100",
    "200000000000000022": "below 110% of the 1000 already spent",
}
GOOD = {"200000000000000008", "200000000000000009", "300000000000000002"}


@pytest.fixture(scope="module")
def bad_rows_sync(built_rules, tmp_path_factory):
    from fbcm_dbt.emulator import Emulator

    project = private_copy(built_rules, tmp_path_factory.mktemp("bad_rows") / "project")
    with Emulator(rules_state()) as emu:
        result = run_fbcm(["sync", "--select", "bad_rows", "--output", "json"], project, emu.url, RULES_TOKEN)
        yield result, emu.dump_state(), emu.counters()


def items(result) -> dict[str, dict]:
    (model,) = result.json()["plan"]["models"]
    return {str(i["object_id"]): i for i in model["items"]}


def live_object(state, object_id):
    """The fields a sync may change, as the emulator holds them."""
    obj = next(o for kind in ("campaigns", "adsets", "ads") for o in state[kind] if o["id"] == object_id)
    return {field: obj.get(field) for field in ("status", "daily_budget", "lifetime_budget")}


def test_the_run_exits_1_because_rows_were_refused(bad_rows_sync):
    result, _, _ = bad_rows_sync
    assert result.code == 1, result.stderr


@pytest.mark.parametrize("object_id", sorted(BAD))
def test_bad_row_is_invalid_with_column_and_reason(bad_rows_sync, object_id):
    result, _, _ = bad_rows_sync
    column, fragment = BAD[object_id]
    item = items(result)[object_id]
    assert item["action"] == "invalid" and item["column"] == column
    assert fragment in " ".join(item["reasons"])


@pytest.mark.parametrize("object_id", sorted(BLOCKED))
def test_unsafe_row_is_blocked_and_never_written(bad_rows_sync, object_id):
    result, state, _ = bad_rows_sync
    item = items(result)[object_id]
    assert item["action"] == "blocked" and BLOCKED[object_id] in " ".join(item["reasons"])
    assert live_object(state, object_id) == live_object(rules_state(), object_id)


def test_no_bad_row_reached_meta_as_a_write(bad_rows_sync):
    result, state, counters = bad_rows_sync
    written = {w["object_id"] for w in result.json()["writes"]}
    assert written == GOOD
    assert counters["writes"] == len(GOOD)
    for object_id in ("200000000000000003", "200000000000000004", "200000000000000005", "200000000000000006",
                      "200000000000000007", "200000000000000017", "200000000000000018"):
        assert live_object(state, object_id) == live_object(rules_state(), object_id)


def test_good_rows_next_to_bad_ones_are_applied(bad_rows_sync):
    result, state, _ = bad_rows_sync
    assert live_object(state, "200000000000000008")["status"] == "PAUSED"  # ' paused ' trimmed, case-folded
    assert live_object(state, "200000000000000009")["daily_budget"] == 6000
    outcomes = {w["object_id"]: w["outcome"] for w in result.json()["writes"]}
    assert outcomes == {object_id: "applied" for object_id in GOOD}


def test_activating_under_a_paused_parent_is_applied_with_a_warning(bad_rows_sync):
    result, state, _ = bad_rows_sync
    item = items(result)["300000000000000002"]
    assert item["action"] == "change" and "will not deliver" in item["warnings"][0]
    assert live_object(state, "300000000000000002")["status"] == "ACTIVE"


def test_id_only_row_is_skipped_and_counted(bad_rows_sync):
    result, _, _ = bad_rows_sync
    assert items(result)["200000000000000010"]["action"] == "skipped"


def test_text_output_names_model_id_and_column(rules_copy, rules_emulator):
    result = run_fbcm(["plan", "--select", "bad_rows"], rules_copy, rules_emulator.url, RULES_TOKEN)
    assert result.code == 1
    assert "200000000000000004" in result.stdout and "desired_status" in result.stdout
    assert rules_emulator.counters()["writes"] == 0


def test_a_double_id_column_refuses_the_model_and_writes_nothing(rules_copy, rules_emulator):
    result = run_fbcm(["sync", "--select", "double_id"], rules_copy, rules_emulator.url, RULES_TOKEN)
    assert result.code == 1
    assert "DOUBLE" in result.stdout and "BIGINT, NUMERIC(38,0) or VARCHAR" in result.stdout
    assert rules_emulator.get_object("200000000000000011")["status"] == "ACTIVE"
    assert rules_emulator.counters()["writes"] == 0


def test_a_model_with_zero_rows_says_nothing_to_do(rules_copy, rules_emulator):
    result = run_fbcm(["sync", "--select", "zero_rows"], rules_copy, rules_emulator.url, RULES_TOKEN)
    assert result.code == 0, result.stderr
    assert "no rows: nothing to do" in result.stdout
    assert rules_emulator.counters()["writes"] == 0


def test_missing_manifest_says_run_dbt_first(tmp_path):
    (tmp_path / "dbt_project.yml").write_text("name: x\nversion: '1'\nprofile: x\n")
    result = run_fbcm(["sync"], tmp_path)
    assert result.code == 2 and "manifest.json does not exist" in result.stderr and "dbt build" in result.stderr


def test_unknown_target_is_a_clear_error_before_any_call(rules_copy, rules_emulator):
    result = run_fbcm(["sync", "--target", "nope"], rules_copy, rules_emulator.url, RULES_TOKEN)
    assert result.code == 2 and "nope" in result.stderr
    assert rules_emulator.counters()["http_requests"] == 0


def test_a_profile_that_does_not_exist_is_a_clear_error(rules_copy, rules_emulator, tmp_path):
    result = run_fbcm(["sync", "--profiles-dir", str(tmp_path)], rules_copy, rules_emulator.url, RULES_TOKEN)
    assert result.code == 2 and "profile" in result.stderr.lower()
    assert rules_emulator.counters()["http_requests"] == 0


def test_a_locked_duckdb_file_asks_whether_dbt_is_still_running(rules_copy, tmp_path):
    import shutil
    import subprocess
    import sys

    project = tmp_path / "project"
    shutil.copytree(rules_copy, project)
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect('rules.duckdb'); "
                               "print('locked', flush=True); sys.stdin.read()"],
                              cwd=project, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = run_fbcm(["validate"], project)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.code == 2 and "Is dbt still running?" in result.stderr
