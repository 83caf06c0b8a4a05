"""Counters, request log and the admin endpoints."""

from __future__ import annotations

import hashlib
import hmac
import json

from emu_helpers import (
    ACCOUNT, CBO_CAMPAIGN, DAILY_ADSET, TOKEN, Api, assert_error, make_state,
)
from fbcm_dbt.emulator import Emulator

COUNTER_KEYS = {"http_requests", "operations", "reads", "writes", "writes_applied", "throttles", "errors"}


def test_counters_definitions(api, emu):
    api.get(CBO_CAMPAIGN)                               # read
    api.post(DAILY_ADSET, name="renamed")               # write, applied
    api.post(DAILY_ADSET, name="renamed")               # write, nothing changed
    api.post(DAILY_ADSET, daily_budget="1")             # write, refused by a rule
    Api(emu.url, token="bad").post(DAILY_ADSET, name="x")  # failed auth: not a write
    c = emu.counters()
    assert COUNTER_KEYS <= set(c)
    assert (c["http_requests"], c["operations"], c["reads"], c["writes"], c["writes_applied"], c["errors"]) == (5, 5, 1, 3, 1, 2)


def test_reset_counters(api, emu):
    api.get(CBO_CAMPAIGN)
    emu.reset_counters()
    assert all(v == 0 for v in emu.counters().values())
    assert emu.request_log() == []


def test_request_log_entries_and_no_secrets():
    state = make_state()
    state["app"] = {"secret": "s3cret", "require_appsecret_proof": True}
    proof = hmac.new(b"s3cret", TOKEN.encode(), hashlib.sha256).hexdigest()
    with Emulator(state) as emu:
        api = Api(emu.url)
        api.get(CBO_CAMPAIGN, fields="name", appsecret_proof=proof)
        api.post(DAILY_ADSET, daily_budget="1", appsecret_proof=proof)
        api.batch([{"method": "GET", "relative_url": f"{CBO_CAMPAIGN}?access_token={TOKEN}"}], appsecret_proof=proof)
        log = emu.request_log()
        assert [e["method"] for e in log] == ["GET", "POST", "POST"]
        first = log[0]
        assert first["path"] == f"/v26.0/{CBO_CAMPAIGN}" and first["status"] == 200
        assert first["operations"] == 1 and first["points"] == 1 and first["account"] == "act_1001"
        assert log[1]["status"] == 400 and log[1]["error_code"] == 100 and log[1]["error_subcode"] == 1885272
        assert log[2]["operations"] == 1 and log[2]["batch"] is True
        text = json.dumps(log) + json.dumps(api.admin("GET", "log").json())
        assert TOKEN not in text and proof not in text


def test_admin_state_counters_log(api, emu):
    api.post(DAILY_ADSET, status="PAUSED")
    state = api.admin("GET", "state").json()
    adset = next(a for a in state["adsets"] if a["id"] == DAILY_ADSET)
    assert adset["status"] == "PAUSED" and adset["daily_budget"] == 3000
    assert api.admin("GET", "counters").json()["writes"] == 1
    assert api.admin("GET", "log").json()[-1]["path"] == f"/v26.0/{DAILY_ADSET}"
    assert api.admin("POST", "reset_counters").json() == {"success": True}
    assert api.admin("GET", "counters").json()["http_requests"] == 0   # admin calls are not counted


def test_admin_patch_object_and_clock(api, emu):
    r = api.admin("POST", f"objects/{DAILY_ADSET}", {"amount_spent": 2900, "status": "PAUSED"})
    assert r.status_code == 200 and r.json()["amount_spent"] == 2900
    assert emu.get_object(DAILY_ADSET)["status"] == "PAUSED"
    assert api.admin("POST", "objects/404", {"status": "PAUSED"}).status_code == 404
    before = emu.now()
    assert api.admin("POST", "clock", {"advance": 3600}).json()["now"] >= before + 3600
    assert emu.counters()["http_requests"] == 0


def test_patch_object_is_behind_the_clients_back(api, emu):
    emu.patch_object(CBO_CAMPAIGN, daily_budget=7000, name="Changed")
    assert api.get(CBO_CAMPAIGN, fields="daily_budget,name").json()["daily_budget"] == "7000"
    emu.patch_object(ACCOUNT, min_daily_budget=10000)
    assert_error(api.post(DAILY_ADSET, daily_budget="5000"), 100, 1885272)
    assert emu.counters()["writes_applied"] == 0
