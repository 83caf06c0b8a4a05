"""GET /vNN.0/{id}: fields, shapes, effective status, metadata."""

from __future__ import annotations

from emu_helpers import (
    ABO_CAMPAIGN, ACCOUNT, CBO_AD, CBO_ADSET, CBO_CAMPAIGN, DAILY_AD, DAILY_ADSET,
    LIFETIME_ADSET, assert_error,
)


def test_only_asked_fields_plus_id(api):
    r = api.get(CBO_CAMPAIGN, fields="name,status")
    assert r.status_code == 200
    assert r.json() == {"name": "Brand", "status": "ACTIVE", "id": CBO_CAMPAIGN}


def test_no_fields_gives_id_only(api):
    assert api.get(CBO_CAMPAIGN).json() == {"id": CBO_CAMPAIGN}


def test_campaign_fields_and_budget_strings(api):
    fields = ("id,account_id,name,status,configured_status,effective_status,daily_budget,"
              "lifetime_budget,budget_remaining,objective,created_time,updated_time,start_time,"
              "stop_time,spend_cap")
    body = api.get(CBO_CAMPAIGN, fields=fields).json()
    assert body["account_id"] == "1001"          # digits only, no act_ prefix
    assert body["daily_budget"] == "5000"        # numeric string
    assert "lifetime_budget" not in body         # no budget of that type: omitted
    assert body["budget_remaining"] == "5000"
    assert body["configured_status"] == "ACTIVE"
    assert body["objective"] == "OUTCOME_TRAFFIC"
    assert body["created_time"].endswith("-0300")  # account time zone, Meta's format


def test_level_without_budget_omits_budget_fields(api):
    body = api.get(CBO_ADSET, fields="daily_budget,lifetime_budget,budget_remaining").json()
    assert "daily_budget" not in body and "lifetime_budget" not in body
    assert body["budget_remaining"] == "0"


def test_adset_fields(api):
    body = api.get(LIFETIME_ADSET, fields="campaign_id,account_id,lifetime_budget,budget_remaining,end_time,start_time").json()
    assert body["campaign_id"] == ABO_CAMPAIGN
    assert body["lifetime_budget"] == "100000"
    assert body["budget_remaining"] == "50000"   # budget - amount_spent
    assert body["end_time"].endswith("-0300")


def test_ad_fields(api):
    body = api.get(DAILY_AD, fields="adset_id,campaign_id,account_id,name,status,effective_status").json()
    assert body == {"adset_id": DAILY_ADSET, "campaign_id": ABO_CAMPAIGN, "account_id": "1001",
                    "name": "Ad 2", "status": "ACTIVE", "effective_status": "ACTIVE", "id": DAILY_AD}


def test_amount_spent_is_not_a_readable_field(api):
    err = assert_error(api.get(DAILY_ADSET, fields="amount_spent"), 100)
    assert err["message"] == "(#100) Tried accessing nonexisting field (amount_spent) on node type (AdCampaign)"


def test_budget_on_ad_is_nonexisting_field_and_fails_whole_get(api):
    err = assert_error(api.get(CBO_AD, fields="name,daily_budget"), 100)
    assert err["message"] == "(#100) Tried accessing nonexisting field (daily_budget) on node type (Adgroup)"


def test_made_up_field_names_node_type(api):
    assert "node type (AdCampaignGroup)" in assert_error(api.get(CBO_CAMPAIGN, fields="bogus"), 100)["message"]
    assert "node type (AdAccount)" in assert_error(api.get(ACCOUNT, fields="bogus"), 100)["message"]


def test_account_node(api):
    body = api.get(ACCOUNT, fields="id,account_id,name,currency,min_daily_budget,timezone_name,"
                                   "account_status,amount_spent,spend_cap,timezone_offset_hours_utc").json()
    assert body["id"] == ACCOUNT and body["account_id"] == "1001"
    assert body["currency"] == "BRL" and body["min_daily_budget"] == 500
    assert body["timezone_name"] == "America/Sao_Paulo"
    assert body["account_status"] == 1
    assert body["amount_spent"] == "0" and body["spend_cap"] == "0"
    assert body["timezone_offset_hours_utc"] == -3


def test_effective_status_campaign_paused(api, emu):
    emu.patch_object(ABO_CAMPAIGN, status="PAUSED")
    assert api.get(DAILY_ADSET, fields="effective_status,status").json()["effective_status"] == "CAMPAIGN_PAUSED"
    ad = api.get(DAILY_AD, fields="effective_status,status").json()
    assert ad["effective_status"] == "CAMPAIGN_PAUSED" and ad["status"] == "ACTIVE"


def test_effective_status_adset_paused(api):
    # CBO_ADSET is PAUSED in the state; its ACTIVE ad shows ADSET_PAUSED
    assert api.get(CBO_AD, fields="effective_status").json()["effective_status"] == "ADSET_PAUSED"
    assert api.get(CBO_ADSET, fields="effective_status").json()["effective_status"] == "PAUSED"


def test_effective_status_archived_and_deleted_propagate(api, emu):
    emu.patch_object(ABO_CAMPAIGN, status="ARCHIVED")
    assert api.get(DAILY_AD, fields="effective_status").json()["effective_status"] == "ARCHIVED"
    emu.patch_object(DAILY_ADSET, status="DELETED")
    assert api.get(DAILY_AD, fields="effective_status").json()["effective_status"] == "DELETED"


def test_deleted_object_still_readable_by_id(api, emu):
    emu.patch_object(DAILY_AD, status="DELETED")
    assert api.get(DAILY_AD, fields="status").json()["status"] == "DELETED"


def test_metadata_type(api):
    body = api.get(CBO_CAMPAIGN, metadata="1").json()
    assert body["metadata"]["type"] == "adcampaign_group"
    assert "daily_budget" in {f["name"] for f in body["metadata"]["fields"]}
    assert api.get(DAILY_ADSET, metadata="1").json()["metadata"]["type"] == "adcampaign"
    assert api.get(DAILY_AD, metadata="1").json()["metadata"]["type"] == "adgroup"
    assert api.get(ACCOUNT, metadata="1").json()["metadata"]["type"] == "adaccount"


def test_trailing_slash_path_like_the_sdk(api):
    assert api.get(CBO_CAMPAIGN + "/", fields="name").json()["name"] == "Brand"


def test_unknown_object(api):
    err = assert_error(api.get("999999999", fields="name"), 100, 33)
    assert err["type"] == "GraphMethodException"
    assert err["message"].startswith("Unsupported get request. Object with ID '999999999' does not exist")
