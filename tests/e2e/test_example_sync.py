"""The main job end to end: real `dbt build` of the example project, real `fbcm sync` over HTTP
against the emulator, then the emulator's state checked object by object."""

from __future__ import annotations

from tests.conftest import example_state, run_fbcm

# What the example's rules decide against emulator_state.yml (minor units).
EXPECTED_CHANGES = {
    "120210000000000101": {"daily_budget": 48000},
    "120210000000000203": {"daily_budget": 9600},
    "120210000000000205": {"daily_budget": 5400},
    "120210000000000207": {"status": "PAUSED"},
    "120210000000000303": {"status": "PAUSED"},
    "120210000000000307": {"status": "PAUSED"},
    "120210000000000315": {"status": "PAUSED"},
    "120220000000000202": {"status": "PAUSED"},
    "120220000000000203": {"daily_budget": 3600},
    "120220000000000205": {"daily_budget": 7200},
}
JP_IDS = {i for i in EXPECTED_CHANGES if i.startswith("12022")}


def objects_by_id(state: dict) -> dict[str, dict]:
    return {str(o["id"]): o for kind in ("campaigns", "adsets", "ads") for o in state.get(kind, [])}


def assert_state(emulator, expected_changes: dict[str, dict]) -> None:
    before = objects_by_id(example_state())
    after = objects_by_id(emulator.dump_state())
    assert before.keys() == after.keys()
    for object_id, original in before.items():
        for field in ("status", "daily_budget", "lifetime_budget"):
            want = expected_changes.get(object_id, {}).get(field, original.get(field))
            assert after[object_id].get(field) == want, (object_id, field)


def test_sync_applies_exactly_the_example_changes(example_copy, emulator):
    result = run_fbcm(["sync"], example_copy, emulator.url)
    assert result.code == 0, result.stdout + result.stderr
    assert_state(emulator, EXPECTED_CHANGES)
    assert "fb_br_desired_state" in result.stdout and "fb_jp_adset_budgets" in result.stdout
    assert "BRL 480.00" in result.stdout  # money shown in the account currency as well as minor units


def test_second_sync_of_the_same_table_sends_zero_writes(example_copy, emulator):
    assert run_fbcm(["sync"], example_copy, emulator.url).code == 0
    emulator.reset_counters()
    second = run_fbcm(["sync", "--output", "json"], example_copy, emulator.url)
    assert second.code == 0, second.stderr
    assert emulator.counters()["writes"] == 0
    assert second.json()["writes"] == []
    assert_state(emulator, EXPECTED_CHANGES)


def test_select_limits_the_sync_to_dbt_selection(example_copy, emulator):
    result = run_fbcm(["sync", "--select", "fb_jp_adset_budgets"], example_copy, emulator.url)
    assert result.code == 0, result.stderr
    assert_state(emulator, {i: c for i, c in EXPECTED_CHANGES.items() if i in JP_IDS})


def test_exclude_and_graph_operators_mean_what_they_mean_to_dbt(example_copy, emulator):
    result = run_fbcm(["sync", "--select", "+fb_jp_adset_budgets", "--exclude", "fb_jp_adset_budgets"],
                      example_copy, emulator.url)
    assert result.code == 0, result.stderr
    assert emulator.counters()["writes"] == 0
    assert_state(emulator, {})


def test_exposure_selection_picks_the_model_behind_it(example_copy, emulator):
    result = run_fbcm(["sync", "--select", "+exposure:meta_jp_budget_manager"], example_copy, emulator.url)
    assert result.code == 0, result.stderr
    assert_state(emulator, {i: c for i, c in EXPECTED_CHANGES.items() if i in JP_IDS})


def test_ls_names_both_declaration_styles(example_copy):
    result = run_fbcm(["ls"], example_copy)
    assert result.code == 0, result.stderr
    assert "tag:fbcm" in result.stdout and "exposure:meta_jp_budget_manager" in result.stdout


def test_validate_is_offline_and_clean_for_the_example(example_copy):
    result = run_fbcm(["validate"], example_copy, graph_url="http://127.0.0.1:9", token=None)
    assert result.code == 0, result.stdout + result.stderr
    assert "0 invalid" in result.stdout


def test_fbcm_run_builds_then_syncs_what_it_built(tmp_path, emulator):
    import shutil

    from tests.conftest import EXAMPLE

    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    result = run_fbcm(["run", "--select", "+fb_jp_adset_budgets"], project, emulator.url)
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert_state(emulator, {i: c for i, c in EXPECTED_CHANGES.items() if i in JP_IDS})


def test_missing_token_is_a_usage_error_before_any_call(example_copy, emulator):
    result = run_fbcm(["sync"], example_copy, emulator.url, token=None)
    assert result.code == 2 and "FBCM_ACCESS_TOKEN" in result.stderr
    assert emulator.counters()["http_requests"] == 0
