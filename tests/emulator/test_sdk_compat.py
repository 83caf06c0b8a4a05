"""Wire compatibility with Meta's official Python SDK (facebook_business).

The SDK builds URLs as ``FacebookSession.GRAPH + "/" + version + "/" + path``
(api.py, FacebookAdsApi.call), so pointing ``session.GRAPH`` at the emulator is
all it takes. It sends access_token/appsecret_proof in the query string of
every request, node paths with a trailing slash (``/v26.0/<id>/``), and
batches as ``POST /v26.0/`` with ``batch=[...]``.
"""

from __future__ import annotations

import pytest

pytest.importorskip("facebook_business")

from facebook_business.adobjects.adaccount import AdAccount  # noqa: E402
from facebook_business.adobjects.adset import AdSet  # noqa: E402
from facebook_business.adobjects.campaign import Campaign  # noqa: E402
from facebook_business.api import FacebookAdsApi  # noqa: E402
from facebook_business.exceptions import FacebookRequestError  # noqa: E402
from facebook_business.session import FacebookSession  # noqa: E402

from emu_helpers import (  # noqa: E402
    ACCOUNT, CBO_ADSET, CBO_CAMPAIGN, DAILY_AD, DAILY_ADSET, LIFETIME_ADSET, TOKEN, make_state,
)
from fbcm_dbt.emulator import Emulator, Faults, RateLimits  # noqa: E402


def sdk_api(url: str, token: str = TOKEN, app_secret: str | None = None) -> FacebookAdsApi:
    session = FacebookSession(app_id="42" if app_secret else None, app_secret=app_secret, access_token=token)
    session.GRAPH = url  # the SDK reads the base URL from here
    return FacebookAdsApi(session, api_version="v26.0")


@pytest.fixture
def sdk(emu):
    return sdk_api(emu.url)


def test_sdk_read(sdk):
    campaign = Campaign(CBO_CAMPAIGN, api=sdk).api_get(
        fields=[Campaign.Field.name, Campaign.Field.daily_budget, Campaign.Field.effective_status])
    assert campaign[Campaign.Field.name] == "Brand"
    assert campaign[Campaign.Field.daily_budget] == "5000"
    assert campaign[Campaign.Field.effective_status] == "ACTIVE"


def test_sdk_update(sdk, emu):
    AdSet(DAILY_ADSET, api=sdk).api_update(params={
        AdSet.Field.status: AdSet.Status.paused, AdSet.Field.daily_budget: 4200})
    obj = emu.get_object(DAILY_ADSET)
    assert obj["status"] == "PAUSED" and obj["daily_budget"] == 4200


def test_sdk_validate_only(sdk, emu):
    AdSet(DAILY_ADSET, api=sdk).api_update(params={
        AdSet.Field.daily_budget: 4200, "execution_options": ["validate_only"]})
    assert emu.get_object(DAILY_ADSET)["daily_budget"] == 3000


def test_sdk_error_has_code_and_subcode(sdk):
    with pytest.raises(FacebookRequestError) as info:
        AdSet(CBO_ADSET, api=sdk).api_update(params={AdSet.Field.daily_budget: 3000})
    err = info.value
    assert (err.api_error_code(), err.api_error_subcode(), err.http_status()) == (100, 1885621, 400)
    assert err.api_transient_error() is False

    with pytest.raises(FacebookRequestError) as info:
        AdSet(DAILY_ADSET, api=sdk).api_update(params={AdSet.Field.daily_budget: 10})
    assert info.value.api_error_subcode() == 1885272
    assert info.value.api_blame_field_specs() == [["daily_budget"]]

    with pytest.raises(FacebookRequestError) as info:
        Campaign("999", api=sdk).api_get(fields=[Campaign.Field.name])
    assert (info.value.api_error_code(), info.value.api_error_subcode()) == (100, 33)
    assert info.value.api_error_type() == "GraphMethodException"


def test_sdk_token_errors(emu):
    with pytest.raises(FacebookRequestError) as info:
        Campaign(CBO_CAMPAIGN, api=sdk_api(emu.url, token="bad")).api_get(fields=["name"])
    assert (info.value.api_error_code(), info.value.api_error_subcode()) == (190, 467)


def test_sdk_batch(sdk, emu):
    ok, failed = [], []
    batch = sdk.new_batch()
    Campaign(CBO_CAMPAIGN, api=sdk).api_get(fields=["name"], batch=batch,
                                            success=ok.append, failure=failed.append)
    AdSet(DAILY_ADSET, api=sdk).api_update(params={"status": "PAUSED"}, batch=batch,
                                           success=ok.append, failure=failed.append)
    AdSet(CBO_ADSET, api=sdk).api_update(params={"daily_budget": 100}, batch=batch,
                                         success=ok.append, failure=failed.append)
    assert batch.execute() is None          # nothing to retry
    assert [r.json() for r in ok] == [{"name": "Brand", "id": CBO_CAMPAIGN}, {"success": True}]
    assert len(failed) == 1
    err = failed[0].error()
    assert isinstance(err, FacebookRequestError)
    assert (err.api_error_code(), err.api_error_subcode(), err.http_status()) == (100, 1885621, 400)
    assert emu.get_object(DAILY_ADSET)["status"] == "PAUSED"
    assert emu.counters()["batches"] == 1


def test_sdk_batch_null_entries_come_back_for_retry(emu, sdk):
    emu.set_faults(Faults(batch_null_rate=1))
    batch = sdk.new_batch()
    AdSet(DAILY_ADSET, api=sdk).api_update(params={"status": "PAUSED"}, batch=batch)
    retry = batch.execute()
    assert retry is not None and len(retry) == 1
    emu.set_faults(Faults())
    assert retry.execute() is None
    assert emu.get_object(DAILY_ADSET)["status"] == "PAUSED"


def test_sdk_edge_cursor_pages(sdk):
    cursor = AdAccount(ACCOUNT, api=sdk).get_ad_sets(fields=["name", "daily_budget"], params={"limit": 1})
    names = [adset["name"] for adset in cursor]
    assert names == ["Brand BR", "Daily", "Lifetime"]
    assert cursor.total() == 3   # the SDK asks summary=true


def test_sdk_account_node(sdk):
    account = AdAccount(ACCOUNT, api=sdk).api_get(fields=["currency", "min_daily_budget", "timezone_name"])
    assert account["currency"] == "BRL" and account["min_daily_budget"] == 500


def test_sdk_rate_limit_error_and_usage_headers():
    limits = RateLimits.preset("dev", time_scale=1e-9, max_score=2)
    with Emulator(make_state(), rate_limits=limits) as emu:
        api = sdk_api(emu.url)
        Campaign(CBO_CAMPAIGN, api=api).api_get(fields=["name"])
        Campaign(CBO_CAMPAIGN, api=api).api_get(fields=["name"])
        with pytest.raises(FacebookRequestError) as info:
            Campaign(CBO_CAMPAIGN, api=api).api_get(fields=["name"])
        err = info.value
        assert (err.api_error_code(), err.api_error_subcode()) == (17, 2446079)
        assert err.api_transient_error() is True
        assert "x-business-use-case-usage" in {k.lower() for k in err.http_headers()}


def test_sdk_with_appsecret_proof():
    state = make_state()
    state["app"] = {"id": "42", "secret": "s3cret", "require_appsecret_proof": True}
    with Emulator(state) as emu:
        api = sdk_api(emu.url, app_secret="s3cret")
        assert Campaign(CBO_CAMPAIGN, api=api).api_get(fields=["name"])["name"] == "Brand"
        AdSet(LIFETIME_ADSET, api=api).api_update(params={"name": "x"})
        batch = api.new_batch()
        AdSet(DAILY_ADSET, api=api).api_update(params={"name": "y"}, batch=batch)
        assert batch.execute() is None
        with pytest.raises(FacebookRequestError) as info:
            Campaign(CBO_CAMPAIGN, api=sdk_api(emu.url, app_secret="wrong")).api_get(fields=["name"])
        assert info.value.api_error_message() == "Invalid appsecret_proof provided in the API argument"


def test_sdk_delete(sdk, emu):
    from facebook_business.adobjects.ad import Ad

    Ad(DAILY_AD, api=sdk).api_delete()
    assert emu.get_object(DAILY_AD)["status"] == "DELETED"
