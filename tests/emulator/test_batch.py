"""Batch requests: format, limits, versions, per-operation tokens and errors."""

from __future__ import annotations

import json

import requests

from emu_helpers import (
    ACCOUNT, CBO_ADSET, CBO_CAMPAIGN, DAILY_AD, DAILY_ADSET, FOREIGN_CAMPAIGN, OTHER_TOKEN, TOKEN,
    Api, assert_error, batch_bodies,
)


def test_batch_shape_and_order(api, emu):
    ops = [
        {"method": "GET", "relative_url": f"{CBO_CAMPAIGN}?fields=name,daily_budget"},
        {"method": "POST", "relative_url": DAILY_ADSET, "body": "status=PAUSED&daily_budget=4000"},
        {"method": "GET", "relative_url": f"{DAILY_ADSET}?fields=status,daily_budget"},
    ]
    r = api.batch(ops)
    assert r.status_code == 200
    raw = r.json()
    assert all(set(e) == {"code", "headers", "body"} and isinstance(e["body"], str) for e in raw)
    assert batch_bodies(r) == [
        (200, {"name": "Brand", "daily_budget": "5000", "id": CBO_CAMPAIGN}),
        (200, {"success": True}),
        (200, {"status": "PAUSED", "daily_budget": "4000", "id": DAILY_ADSET}),
    ]
    names = {h["name"].lower() for h in raw[0]["headers"]}
    assert {"content-type", "x-ad-account-usage", "x-business-use-case-usage", "x-app-usage"} <= names


def test_batch_failed_operation_keeps_outer_200(api, emu):
    ops = [
        {"method": "POST", "relative_url": CBO_ADSET, "body": "daily_budget=3000"},
        {"method": "GET", "relative_url": "999?fields=name"},
        {"method": "POST", "relative_url": DAILY_AD, "body": "status=PAUSED"},
    ]
    (c1, b1), (c2, b2), (c3, b3) = batch_bodies(api.batch(ops))
    assert c1 == 400 and b1["error"]["error_subcode"] == 1885621
    assert c2 == 400 and b2["error"]["error_subcode"] == 33
    assert c3 == 200 and emu.get_object(DAILY_AD)["status"] == "PAUSED"


def test_batch_max_50(api):
    ops = [{"method": "GET", "relative_url": CBO_CAMPAIGN}] * 50
    assert len(api.batch(ops).json()) == 50
    err = assert_error(api.batch(ops + ops[:1]), 1)
    assert err["message"] == "(#1) Too many requests in batch message. Maximum batch size is 50"


def test_batch_on_unversioned_root_with_versioned_relative_urls(emu):
    api = Api(emu.url, version="")
    ops = [{"method": "GET", "relative_url": f"v26.0/{CBO_CAMPAIGN}?fields=name"},
           {"method": "GET", "relative_url": f"/v24.0/{CBO_CAMPAIGN}?fields=name"},
           {"method": "GET", "relative_url": f"{CBO_CAMPAIGN}?fields=name"}]
    (c1, b1), (c2, b2), (c3, b3) = batch_bodies(api.batch(ops))
    assert c1 == 200 and b1["name"] == "Brand"
    assert c2 == 400 and b2["error"]["code"] == 2635
    assert c3 == 400 and b3["error"]["code"] == 2635   # no version anywhere


def test_batch_deprecated_outer_version(emu):
    assert_error(Api(emu.url, version="v23.0").batch([{"method": "GET", "relative_url": CBO_CAMPAIGN}]), 2635)


def test_batch_top_level_token_required_and_checked(emu):
    ops = [{"method": "GET", "relative_url": CBO_CAMPAIGN}]
    assert_error(Api(emu.url, token=None).batch(ops), 104)
    assert_error(Api(emu.url, token="bad").batch(ops), 190, 467)


def test_batch_operation_with_its_own_token(api):
    ops = [
        {"method": "GET", "relative_url": f"{FOREIGN_CAMPAIGN}?fields=name"},
        {"method": "GET", "relative_url": f"{FOREIGN_CAMPAIGN}?fields=name&access_token={OTHER_TOKEN}"},
        {"method": "POST", "relative_url": FOREIGN_CAMPAIGN, "body": f"name=Z&access_token={OTHER_TOKEN}"},
        {"method": "GET", "relative_url": f"{CBO_CAMPAIGN}?access_token=bogus"},
    ]
    (c1, b1), (c2, b2), (c3, b3), (c4, b4) = batch_bodies(api.batch(ops))
    assert c1 == 400 and b1["error"]["error_subcode"] == 33
    assert c2 == 200 and b2["name"] == "Other"
    assert c3 == 200
    assert c4 == 400 and b4["error"]["code"] == 190


def test_batch_include_headers_false(api):
    r = api.batch([{"method": "GET", "relative_url": CBO_CAMPAIGN}], include_headers="false")
    assert r.json()[0].keys() == {"code", "body"}


def test_batch_operations_count_separately(api, emu):
    emu.reset_counters()
    api.batch([{"method": "GET", "relative_url": CBO_CAMPAIGN}] * 3
              + [{"method": "POST", "relative_url": DAILY_ADSET, "body": "name=n"}])
    c = emu.counters()
    assert (c["http_requests"], c["batches"], c["operations"], c["reads"], c["writes"], c["points"]) == (1, 1, 4, 3, 1, 6)
    entry = emu.request_log()[-1]
    assert entry["operations"] == 4 and entry["points"] == 6 and entry["status"] == 200
    assert [op["points"] for op in entry["ops"]] == [1, 1, 1, 3]


def test_batch_edge_listing_and_validate_only(api, emu):
    ops = [
        {"method": "GET", "relative_url": f"{ACCOUNT}/campaigns?fields=name&limit=1"},
        {"method": "POST", "relative_url": DAILY_ADSET,
         "body": "daily_budget=9000&execution_options=%5B%22validate_only%22%5D"},
    ]
    (c1, b1), (c2, b2) = batch_bodies(api.batch(ops))
    assert c1 == 200 and len(b1["data"]) == 1 and "next" in b1["paging"]
    assert c2 == 200 and b2 == {"success": True}
    assert emu.get_object(DAILY_ADSET)["daily_budget"] == 3000


def test_batch_json_body_and_bearer_header(emu):
    ops = [{"method": "GET", "relative_url": f"{CBO_CAMPAIGN}?fields=name"}]
    r = requests.post(f"{emu.url}/v26.0/", json={"batch": ops},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert batch_bodies(r) == [(200, {"name": "Brand", "id": CBO_CAMPAIGN})]


def test_batch_malformed(api):
    r = api.session.post(api.path(""), data={"batch": "{not json", "access_token": TOKEN}, timeout=5)
    assert_error(r, 100)
    (code, body), = batch_bodies(api.batch([{"method": "GET"}]))
    assert code == 400 and body["error"]["code"] == 100
    assert json.loads(json.dumps(body))  # still Meta's error shape
