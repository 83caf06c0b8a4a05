"""Account edges /act_N/campaigns|adsets|ads: fields, paging, filtering."""

from __future__ import annotations

import json

import requests

from emu_helpers import (
    ABO_CAMPAIGN, ACCOUNT, CBO_AD, CBO_ADSET, CBO_CAMPAIGN, DAILY_AD, DAILY_ADSET,
    LIFETIME_AD, LIFETIME_ADSET, assert_error, make_state,
)
from fbcm_dbt.emulator import Emulator


def ids(resp):
    assert resp.status_code == 200, resp.text
    return [d["id"] for d in resp.json()["data"]]


def test_campaigns_adsets_ads_edges(api):
    assert ids(api.get(f"{ACCOUNT}/campaigns")) == [CBO_CAMPAIGN, ABO_CAMPAIGN]
    assert ids(api.get(f"{ACCOUNT}/adsets")) == [CBO_ADSET, DAILY_ADSET, LIFETIME_ADSET]
    assert ids(api.get(f"{ACCOUNT}/ads")) == [CBO_AD, DAILY_AD, LIFETIME_AD]


def test_edge_fields(api):
    data = api.get(f"{ACCOUNT}/adsets", fields="name,daily_budget,campaign_id").json()["data"]
    assert data[1] == {"name": "Daily", "daily_budget": "3000", "campaign_id": ABO_CAMPAIGN, "id": DAILY_ADSET}


def test_edge_nonexisting_field(api):
    err = assert_error(api.get(f"{ACCOUNT}/ads", fields="daily_budget"), 100)
    assert "node type (Adgroup)" in err["message"]


def test_unknown_edge(api):
    assert "nonexisting field (widgets)" in assert_error(api.get(f"{ACCOUNT}/widgets"), 100)["message"]


def test_campaign_and_adset_edges(api):
    assert ids(api.get(f"{ABO_CAMPAIGN}/adsets")) == [DAILY_ADSET, LIFETIME_ADSET]
    assert ids(api.get(f"{DAILY_ADSET}/ads")) == [DAILY_AD]


def test_paging_with_cursors_and_next(api):
    first = api.get(f"{ACCOUNT}/ads", fields="name", limit=2).json()
    assert [d["id"] for d in first["data"]] == [CBO_AD, DAILY_AD]
    paging = first["paging"]
    assert set(paging["cursors"]) == {"before", "after"}
    assert "access_token" not in paging["next"]
    assert paging["next"].startswith(f"{api.url}/v26.0/{ACCOUNT}/ads?")
    # the next URL works once the token is added again
    second = requests.get(paging["next"], params={"access_token": api.token}, timeout=5).json()
    assert [d["id"] for d in second["data"]] == [LIFETIME_AD]
    assert "next" not in second["paging"]
    # and the cursor works as a parameter
    again = api.get(f"{ACCOUNT}/ads", limit=2, after=paging["cursors"]["after"]).json()
    assert [d["id"] for d in again["data"]] == [LIFETIME_AD]


def test_default_limit_25_and_max_500():
    state = make_state()
    state["ads"] += [{"id": str(130000000000000000 + i), "adset_id": DAILY_ADSET, "status": "ACTIVE"}
                     for i in range(600)]
    with Emulator(state) as emu:
        from emu_helpers import Api
        api = Api(emu.url)
        assert len(api.get(f"{ACCOUNT}/ads").json()["data"]) == 25
        assert len(api.get(f"{ACCOUNT}/ads", limit=1000).json()["data"]) == 500
        seen, url, params = [], f"{emu.url}/v26.0/{ACCOUNT}/ads", {"limit": 250, "access_token": api.token}
        pages = 0
        while url:
            body = requests.get(url, params=params, timeout=5).json()
            seen += [d["id"] for d in body["data"]]
            url, params = body.get("paging", {}).get("next"), {"access_token": api.token}
            pages += 1
        assert len(seen) == len(set(seen)) == 603 and pages == 3
        assert emu.counters()["reads"] == 2 + 3  # each page is one read


def test_filtering_id_in(api):
    f = json.dumps([{"field": "id", "operator": "IN", "value": [DAILY_ADSET, CBO_ADSET]}])
    assert ids(api.get(f"{ACCOUNT}/adsets", filtering=f)) == [CBO_ADSET, DAILY_ADSET]


def test_filtering_campaign_and_adset_ids(api):
    for field in ("campaign.id", "campaign_id"):
        f = json.dumps([{"field": field, "operator": "IN", "value": [ABO_CAMPAIGN]}])
        assert ids(api.get(f"{ACCOUNT}/ads", filtering=f)) == [DAILY_AD, LIFETIME_AD]
    for field in ("adset.id", "adset_id"):
        f = json.dumps([{"field": field, "operator": "IN", "value": [CBO_ADSET]}])
        assert ids(api.get(f"{ACCOUNT}/ads", filtering=f)) == [CBO_AD]


def test_filtering_effective_status(api):
    f = json.dumps([{"field": "effective_status", "operator": "IN", "value": ["ADSET_PAUSED"]}])
    assert ids(api.get(f"{ACCOUNT}/ads", filtering=f)) == [CBO_AD]


def test_filtering_bad_field_or_json(api):
    assert_error(api.get(f"{ACCOUNT}/ads", filtering=json.dumps([{"field": "color", "operator": "IN", "value": []}])), 100)
    assert_error(api.get(f"{ACCOUNT}/ads", filtering="not json"), 100)


def test_deleted_and_archived_hidden_unless_filtered(api, emu):
    emu.patch_object(DAILY_AD, status="DELETED")
    emu.patch_object(LIFETIME_AD, status="ARCHIVED")
    assert ids(api.get(f"{ACCOUNT}/ads")) == [CBO_AD]
    f = json.dumps([{"field": "effective_status", "operator": "IN", "value": ["DELETED", "ARCHIVED"]}])
    assert ids(api.get(f"{ACCOUNT}/ads", filtering=f)) == [DAILY_AD, LIFETIME_AD]
    assert ids(api.get(f"{ACCOUNT}/ads", effective_status='["DELETED"]')) == [DAILY_AD]


def test_summary_total_count_like_the_sdk_asks(api):
    body = api.get(f"{ACCOUNT}/adsets", limit=1, summary="true").json()
    assert body["summary"] == {"total_count": 3}


def test_empty_page(api):
    f = json.dumps([{"field": "id", "operator": "IN", "value": ["1"]}])
    assert api.get(f"{ACCOUNT}/ads", filtering=f).json() == {"data": []}


def test_bad_cursor(api):
    assert_error(api.get(f"{ACCOUNT}/ads", after="@@@"), 100)
