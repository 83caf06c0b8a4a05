"""State file: loading, validation, dump in the same format, round trip."""

from __future__ import annotations

import pytest
import yaml

from emu_helpers import CBO_CAMPAIGN, DAILY_ADSET, TOKEN, Api, make_state
from fbcm_dbt.emulator import Emulator, load_state
from fbcm_dbt.emulator.store import StateError

STATE_YAML = """
accounts:  [{id: act_1001, currency: BRL, min_daily_budget: 500, timezone_name: America/Sao_Paulo}]
tokens:    [{token: test-token, accounts: [act_1001]}]
campaigns: [{id: "120000000000000001", account_id: act_1001, name: Brand, status: ACTIVE, daily_budget: 5000}]
adsets:    [{id: "120000000000000011", campaign_id: "120000000000000001", status: PAUSED, end_time: null, amount_spent: 0}]
ads:       [{id: "120000000000000021", adset_id: "120000000000000011", status: ACTIVE}]
"""


def test_load_state_from_yaml_file(tmp_path):
    path = tmp_path / "state.yml"
    path.write_text(STATE_YAML)
    state = load_state(path)
    assert state["campaigns"][0]["id"] == "120000000000000001"
    with Emulator(str(path)) as emu:
        assert Api(emu.url).get(CBO_CAMPAIGN, fields="name").json()["name"] == "Brand"


def test_unquoted_numeric_ids_become_strings(tmp_path):
    path = tmp_path / "state.yml"
    path.write_text(STATE_YAML.replace('"120000000000000001"', "120000000000000001"))
    with Emulator(path) as emu:
        dumped = emu.dump_state()
        assert dumped["campaigns"][0]["id"] == "120000000000000001"
        assert dumped["adsets"][0]["campaign_id"] == "120000000000000001"


@pytest.mark.parametrize("mutate,message", [
    (lambda s: s["campaigns"][0].update(account_id="act_9"), "unknown account"),
    (lambda s: s["adsets"][0].update(campaign_id="1"), "unknown campaign"),
    (lambda s: s["ads"][0].update(adset_id="1"), "unknown ad set"),
    (lambda s: s["campaigns"][0].update(status="RUNNING"), "bad status"),
    (lambda s: s["campaigns"][0].update(daily_budget="50.5"), "not an integer"),
    (lambda s: s["campaigns"].append(dict(s["campaigns"][0])), "duplicate id"),
])
def test_invalid_state_rejected(mutate, message):
    state = make_state()
    mutate(state)
    with pytest.raises(StateError, match=message):
        load_state(state)


def test_dump_format_and_round_trip(api, emu, tmp_path):
    api.post(DAILY_ADSET, daily_budget="4000", status="PAUSED")
    dumped = emu.dump_state()
    assert set(dumped) >= {"accounts", "tokens", "campaigns", "adsets", "ads"}
    adset = next(a for a in dumped["adsets"] if a["id"] == DAILY_ADSET)
    assert adset["daily_budget"] == 4000 and isinstance(adset["daily_budget"], int)
    assert adset["status"] == "PAUSED" and adset["end_time"] is None
    assert all(isinstance(c["id"], str) for c in dumped["campaigns"])
    # the dump is a valid state file that reproduces the same objects
    path = tmp_path / "dump.yml"
    path.write_text(yaml.safe_dump(dumped))
    with Emulator(path) as again:
        assert again.dump_state() == dumped


def test_get_object_is_a_copy(emu):
    obj = emu.get_object(CBO_CAMPAIGN)
    obj["name"] = "mutated"
    assert emu.get_object(CBO_CAMPAIGN)["name"] == "Brand"
    assert emu.get_object("act_1001")["currency"] == "BRL"
    with pytest.raises(KeyError):
        emu.get_object("404")


def test_state_dict_is_not_modified(state):
    before = repr(state)
    with Emulator(state) as emu:
        Api(emu.url).post(DAILY_ADSET, status="PAUSED", access_token=TOKEN)
    assert repr(state) == before
