"""POST /vNN.0/{id}: Meta's update rules, each answered with Meta's error."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from emu_helpers import (
    ABO_CAMPAIGN, CBO_ADSET, CBO_CAMPAIGN, DAILY_AD, DAILY_ADSET, LIFETIME_ADSET,
    assert_error,
)


def test_update_returns_success_and_changes_state(api, emu):
    r = api.post(DAILY_ADSET, status="PAUSED", daily_budget="4000")
    assert r.status_code == 200 and r.json() == {"success": True}
    obj = emu.get_object(DAILY_ADSET)
    assert obj["status"] == "PAUSED" and obj["daily_budget"] == 4000


def test_read_after_write_with_fields(api):
    r = api.post(DAILY_ADSET, daily_budget="4500", fields="daily_budget,status")
    assert r.json() == {"daily_budget": "4500", "status": "ACTIVE", "id": DAILY_ADSET}


def test_read_after_write_bad_field_applies_write_then_errors(api, emu):
    err = assert_error(api.post(DAILY_ADSET, name="Renamed", fields="bogus"), 100)
    assert err["error_data"]["original_response"] == {"success": True}
    assert emu.get_object(DAILY_ADSET)["name"] == "Renamed"


def test_delete_method_deletes(api, emu):
    r = api.session.delete(api.path(DAILY_AD), params={"access_token": api.token}, timeout=5)
    assert r.json() == {"success": True}
    assert emu.get_object(DAILY_AD)["status"] == "DELETED"


@pytest.mark.parametrize("status", ["paused", "RUNNING", ""])
def test_status_enum(api, status):
    err = assert_error(api.post(CBO_CAMPAIGN, status=status), 100)
    assert "ACTIVE, PAUSED, ARCHIVED, DELETED" in err["message"]


def test_deleted_accepts_only_name(api, emu):
    for oid, sub in ((ABO_CAMPAIGN, 1487566), (DAILY_ADSET, 1487056), (DAILY_AD, 1885088)):
        emu.patch_object(oid, status="DELETED")
        assert_error(api.post(oid, status="ACTIVE"), 100, sub)
        assert emu.get_object(oid)["status"] == "DELETED"
        assert api.post(oid, name="renamed").json() == {"success": True}
    assert_error(api.post(DAILY_ADSET, daily_budget="9000"), 100, 1487056)


def test_archived_accepts_name_and_deleted_only(api, emu):
    emu.patch_object(DAILY_ADSET, status="ARCHIVED")
    assert_error(api.post(DAILY_ADSET, status="ACTIVE"), 100, 1885088)
    assert_error(api.post(DAILY_ADSET, daily_budget="9000"), 100, 1885088)
    assert api.post(DAILY_ADSET, name="old").json() == {"success": True}
    assert api.post(DAILY_ADSET, status="DELETED").json() == {"success": True}
    assert emu.get_object(DAILY_ADSET)["status"] == "DELETED"


def test_archive_then_delete_transitions(api, emu):
    assert api.post(DAILY_AD, status="ARCHIVED").json() == {"success": True}
    assert_error(api.post(DAILY_AD, status="PAUSED"), 100, 1885088)
    assert api.post(DAILY_AD, status="DELETED").json() == {"success": True}
    assert_error(api.post(DAILY_AD, status="ARCHIVED"), 100, 1885088)


@pytest.mark.parametrize("param", ["daily_budget", "lifetime_budget"])
def test_no_budgets_on_ads(api, emu, param):
    err = assert_error(api.post(DAILY_AD, **{param: "5000"}), 100)
    assert err["message"] == f"(#100) Param {param} is not valid for ads"


def test_adset_budget_under_campaign_budget_1885621(api, emu):
    err = assert_error(api.post(CBO_ADSET, daily_budget="3000"), 100, 1885621)
    assert err["error_user_msg"] == "You can only set an ad set budget or a campaign budget."
    assert emu.get_object(CBO_ADSET)["daily_budget"] is None


def test_campaign_budget_when_adsets_hold_budgets_1885621(api, emu):
    assert_error(api.post(ABO_CAMPAIGN, daily_budget="10000"), 100, 1885621)
    assert emu.get_object(ABO_CAMPAIGN)["daily_budget"] is None


def test_daily_and_lifetime_together(api, emu):
    err = assert_error(api.post(DAILY_ADSET, lifetime_budget="500000"), 100, 1885155)
    assert "not both" in err["error_user_msg"]
    # switching types in one call is fine when the other is set to 0 (needs an end_time)
    end = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S%z")
    r = api.post(DAILY_ADSET, daily_budget="0", lifetime_budget="500000", end_time=end)
    assert r.json() == {"success": True}, r.text
    obj = emu.get_object(DAILY_ADSET)
    assert obj["daily_budget"] == 0 and obj["lifetime_budget"] == 500000


def test_lifetime_budget_needs_end_time(api, emu):
    assert_error(api.post(DAILY_ADSET, daily_budget="0", lifetime_budget="500000"), 100, 1487233)
    # removing the end time of a lifetime-budget ad set is refused the same way
    assert_error(api.post(LIFETIME_ADSET, end_time="0"), 100, 1487233)


def test_end_time_in_the_past(api):
    past = int((dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).timestamp())
    assert_error(api.post(LIFETIME_ADSET, end_time=str(past)), 100, 1487033)


def test_daily_budget_below_account_minimum_1885272(api, emu):
    err = assert_error(api.post(DAILY_ADSET, daily_budget="499"), 100, 1885272)
    assert err["error_user_title"] == "Budget Is Too Low"
    assert err["error_data"]["blame_field_specs"] == [["daily_budget"]]
    assert api.post(DAILY_ADSET, daily_budget="1100").json() == {"success": True}


def test_campaign_budget_below_minimum(api):
    assert_error(api.post(CBO_CAMPAIGN, daily_budget="100"), 100, 1885272)


def test_lifetime_minimum_is_daily_minimum_times_days(api, emu):
    # 10 days left x 500 = 5000 minimum; spent 50000 makes 55000 the floor anyway,
    # so test on a fresh ad set without spend
    emu.patch_object(LIFETIME_ADSET, amount_spent=0)
    assert_error(api.post(LIFETIME_ADSET, lifetime_budget="4000"), 100, 1885272)
    assert api.post(LIFETIME_ADSET, lifetime_budget="5500").json() == {"success": True}


def test_budget_cannot_be_removed_with_zero(api):
    assert_error(api.post(DAILY_ADSET, daily_budget="0"), 100, 1885272)


def test_lowering_below_110_percent_of_spent(api, emu):
    # spent 50000 -> minimum 55000
    err = assert_error(api.post(LIFETIME_ADSET, lifetime_budget="54999"), 100, 1885650)
    assert err["error_data"]["blame_field_specs"] == [["lifetime_budget"]]
    assert api.post(LIFETIME_ADSET, lifetime_budget="55000").json() == {"success": True}
    assert emu.get_object(LIFETIME_ADSET)["lifetime_budget"] == 55000


@pytest.mark.parametrize("value", ["50.5", "1e3", "abc", "-100", " 12 x"])
def test_amounts_must_be_whole_numbers(api, emu, value):
    err = assert_error(api.post(DAILY_ADSET, daily_budget=value), 100)
    assert "daily_budget" in err["message"] and "integer" in err["message"]
    assert emu.get_object(DAILY_ADSET)["daily_budget"] == 3000


def test_budget_at_or_over_2_pow_63(api):
    assert_error(api.post(DAILY_ADSET, daily_budget=str(2**63)), 100)


def test_blank_budget_is_silently_ignored_like_meta(api, emu):
    assert api.post(CBO_CAMPAIGN, daily_budget="").json() == {"success": True}
    assert emu.get_object(CBO_CAMPAIGN)["daily_budget"] == 5000


def test_validate_only_validates_and_applies_nothing(api, emu):
    before = emu.get_object(DAILY_ADSET)
    opts = json.dumps(["validate_only"])
    assert api.post(DAILY_ADSET, daily_budget="4000", status="PAUSED", execution_options=opts).json() == {"success": True}
    assert emu.get_object(DAILY_ADSET) == before
    assert_error(api.post(DAILY_ADSET, daily_budget="10", execution_options=opts), 100, 1885272)
    assert_error(api.post(CBO_ADSET, daily_budget="3000", execution_options=opts), 100, 1885621)
    c = emu.counters()
    assert c["validate_only"] == 3 and c["writes"] == 3 and c["writes_applied"] == 0


def test_execution_options_must_be_known(api):
    assert_error(api.post(DAILY_ADSET, name="x", execution_options='["bogus"]'), 100)
    assert_error(api.post(DAILY_ADSET, name="x", execution_options='["include_recommendations"]'), 100)


def test_update_is_atomic(api, emu):
    before = emu.get_object(DAILY_ADSET)
    assert_error(api.post(DAILY_ADSET, status="PAUSED", name="new", daily_budget="1"), 100, 1885272)
    assert emu.get_object(DAILY_ADSET) == before


def test_updated_time_moves_on_status_not_on_budget(api, emu):
    start = emu.get_object(DAILY_ADSET)["updated_time"]
    emu.advance_clock(120)
    api.post(DAILY_ADSET, daily_budget="3500")
    assert emu.get_object(DAILY_ADSET)["updated_time"] == start
    api.post(DAILY_ADSET, status="PAUSED")
    assert emu.get_object(DAILY_ADSET)["updated_time"] > start


def test_end_time_not_valid_on_campaigns(api):
    assert_error(api.post(CBO_CAMPAIGN, end_time="0"), 100)


def test_unknown_write_target(api):
    assert_error(api.post("555", status="PAUSED"), 100, 33)


def test_multipart_form_like_curl_dash_f(api, emu):
    files = {"status": (None, "PAUSED"), "daily_budget": (None, "3300"), "access_token": (None, api.token)}
    r = api.session.post(api.path(DAILY_ADSET), files=files, timeout=5)
    assert r.json() == {"success": True}
    obj = emu.get_object(DAILY_ADSET)
    assert obj["status"] == "PAUSED" and obj["daily_budget"] == 3300


def test_json_body(api, emu):
    r = api.session.post(api.path(DAILY_ADSET), json={"status": "PAUSED", "access_token": api.token}, timeout=5)
    assert r.json() == {"success": True}
    assert emu.get_object(DAILY_ADSET)["status"] == "PAUSED"
