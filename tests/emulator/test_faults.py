"""Injected faults, each over real HTTP, and their determinism."""

from __future__ import annotations

import time

import pytest
import requests

from emu_helpers import CBO_CAMPAIGN, DAILY_AD, DAILY_ADSET, Api, make_state
from fbcm_dbt.emulator import Emulator, Faults


def test_latency(emu, api):
    api.get(CBO_CAMPAIGN)  # warm the connection
    emu.set_faults(Faults(latency_ms=150))
    start = time.perf_counter()
    assert api.get(CBO_CAMPAIGN).status_code == 200
    assert time.perf_counter() - start >= 0.15


def test_latency_does_not_serialise_clients(emu):
    emu.set_faults(Faults(latency_ms=200))
    from concurrent.futures import ThreadPoolExecutor

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: Api(emu.url).get(CBO_CAMPAIGN).status_code, range(8)))
    assert codes == [200] * 8
    assert time.perf_counter() - start < 1.0     # slept in parallel, outside the lock


def test_http_5xx_executes_nothing(emu, api):
    emu.set_faults(Faults(http_5xx_rate=1))
    r = api.post(DAILY_ADSET, status="PAUSED")
    assert r.status_code == 503 and "json" not in r.headers["Content-Type"]
    assert emu.get_object(DAILY_ADSET)["status"] == "ACTIVE"
    assert emu.counters()["faults_5xx"] == 1 and emu.counters()["operations"] == 0


def test_html_error_body(emu, api):
    emu.set_faults(Faults(html_error_rate=1))
    r = api.get(CBO_CAMPAIGN)
    assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/html")
    assert r.text.startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError):
        r.json()


def test_transient_codes_1_and_2(emu, api):
    emu.set_faults(Faults(transient_error_rate=1))
    codes = set()
    for _ in range(20):
        r = api.post(DAILY_ADSET, status="PAUSED")
        assert r.status_code == 500
        err = r.json()["error"]
        assert err["is_transient"] is True
        codes.add(err["code"])
    assert codes == {1, 2}
    assert emu.get_object(DAILY_ADSET)["status"] == "ACTIVE"


def test_batch_null_entries_are_not_executed(emu, api):
    emu.set_faults(Faults(batch_null_rate=1))
    r = api.batch([{"method": "POST", "relative_url": DAILY_AD, "body": "status=PAUSED"}] * 3)
    assert r.status_code == 200 and r.json() == [None, None, None]
    assert emu.get_object(DAILY_AD)["status"] == "ACTIVE"
    assert emu.counters()["batch_nulls"] == 3 and emu.counters()["operations"] == 0


def test_batch_null_partial_rate_is_seeded():
    def run(seed):
        with Emulator(make_state(), faults=Faults(batch_null_rate=0.5), seed=seed) as emu:
            r = Api(emu.url).batch([{"method": "GET", "relative_url": CBO_CAMPAIGN}] * 40)
            return [e is None for e in r.json()]

    a, b, c = run(7), run(7), run(8)
    assert a == b and a != c
    assert 5 < sum(a) < 35


def test_dropped_connection(emu, api):
    emu.set_faults(Faults(drop_connection_rate=1))
    with pytest.raises(requests.ConnectionError):
        api.post(DAILY_ADSET, status="PAUSED")
    assert emu.get_object(DAILY_ADSET)["status"] == "ACTIVE"
    emu.set_faults(Faults())
    assert api.get(CBO_CAMPAIGN).status_code == 200      # the client recovers on a new connection
    assert emu.counters()["faults_drop"] == 1


def test_silent_noop_by_id(emu, api):
    emu.set_faults(Faults(silent_noop_ids=frozenset({DAILY_ADSET})))
    assert api.post(DAILY_ADSET, daily_budget="4000").json() == {"success": True}
    assert emu.get_object(DAILY_ADSET)["daily_budget"] == 3000
    assert api.get(DAILY_ADSET, fields="daily_budget").json()["daily_budget"] == "3000"
    assert api.post(DAILY_AD, status="PAUSED").json() == {"success": True}   # other ids work
    assert emu.get_object(DAILY_AD)["status"] == "PAUSED"
    c = emu.counters()
    assert c["silent_noops"] == 1 and c["writes"] == 2 and c["writes_applied"] == 1


def test_silent_noop_rate_still_validates(emu, api):
    emu.set_faults(Faults(silent_noop_rate=1))
    assert api.post(DAILY_ADSET, daily_budget="10").status_code == 400     # rules still apply
    r = api.post(DAILY_ADSET, daily_budget="4000", fields="daily_budget")
    assert r.json()["daily_budget"] == "3000"                                # read-after-write shows the truth


def test_faults_never_touch_admin_endpoints(emu, api):
    emu.set_faults(Faults(http_5xx_rate=1, drop_connection_rate=1, latency_ms=500))
    start = time.perf_counter()
    assert api.admin("GET", "counters").status_code == 200
    assert api.admin("GET", "state").status_code == 200
    assert time.perf_counter() - start < 0.4


def test_faults_via_admin_endpoint(emu, api):
    r = api.admin("POST", "faults", {"http_5xx_rate": 1})
    assert r.json()["http_5xx_rate"] == 1
    assert api.get(CBO_CAMPAIGN).status_code == 503
    api.admin("POST", "faults", {})
    assert api.get(CBO_CAMPAIGN).status_code == 200


def test_faults_validate_rates():
    with pytest.raises(ValueError):
        Faults(http_5xx_rate=2)


def test_faults_from_state_file_key():
    state = make_state()
    state["faults"] = {"http_5xx_rate": 1}
    with Emulator(state) as emu:
        assert Api(emu.url).get(CBO_CAMPAIGN).status_code == 503
        assert emu.dump_state()["faults"] == {"http_5xx_rate": 1}
