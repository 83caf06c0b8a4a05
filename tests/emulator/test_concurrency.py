"""Concurrent clients, keep-alive and clean shutdown."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

from emu_helpers import ACCOUNT, CBO_CAMPAIGN, DAILY_AD, DAILY_ADSET, LIFETIME_ADSET, TOKEN, Api, make_state
from fbcm_dbt.emulator import Emulator


def test_concurrent_clients_are_all_served_and_counted(emu):
    targets = [DAILY_ADSET, LIFETIME_ADSET, DAILY_AD]

    def worker(n: int) -> list[int]:
        api = Api(emu.url)
        codes = []
        for i in range(25):
            codes.append(api.get(CBO_CAMPAIGN, fields="name").status_code)
            codes.append(api.post(targets[(n + i) % 3], name=f"w{n}-{i}").status_code)
        return codes

    with ThreadPoolExecutor(8) as pool:
        results = [c for codes in pool.map(worker, range(8)) for c in codes]
    assert results == [200] * 400
    c = emu.counters()
    assert (c["http_requests"], c["operations"], c["reads"], c["writes"], c["errors"]) == (400, 400, 200, 200, 0)
    assert len(emu.request_log()) == 400


def test_concurrent_budget_changes_respect_the_limit(emu):
    def change(value: int) -> int:
        return Api(emu.url).post(DAILY_ADSET, daily_budget=str(value)).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(change, range(4000, 4016)))
    assert codes.count(200) == 4 and codes.count(400) == 12


def test_keep_alive_reuses_one_connection(emu):
    parts = urlsplit(emu.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    sockets = set()
    for _ in range(5):
        conn.request("GET", f"/v26.0/{CBO_CAMPAIGN}?fields=name&access_token={TOKEN}")
        resp = conn.getresponse()
        assert json.loads(resp.read())["name"] == "Brand"
        assert resp.getheader("Content-Length")
        sockets.add(id(conn.sock))
    conn.request("POST", f"/v26.0/{DAILY_ADSET}", body=f"name=x&access_token={TOKEN}",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert json.loads(conn.getresponse().read()) == {"success": True}
    sockets.add(id(conn.sock))
    assert len(sockets) == 1
    conn.close()


def test_stop_with_open_keep_alive_connections():
    emu = Emulator(make_state()).start()
    session = requests.Session()
    assert session.get(f"{emu.url}/v26.0/{ACCOUNT}", params={"access_token": TOKEN}, timeout=5).status_code == 200
    stopper = threading.Thread(target=emu.stop)
    stopper.start()
    stopper.join(timeout=5)
    assert not stopper.is_alive()
    try:
        session.get(f"http://127.0.0.1:{emu.port}/v26.0/{ACCOUNT}", timeout=1)
        raise AssertionError("the emulator still answers after stop()")
    except requests.ConnectionError:
        pass


def test_two_emulators_side_by_side():
    with Emulator(make_state()) as a, Emulator(make_state()) as b:
        assert a.url != b.url
        Api(a.url).post(DAILY_ADSET, status="PAUSED")
        assert b.get_object(DAILY_ADSET)["status"] == "ACTIVE"
