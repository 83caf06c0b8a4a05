"""Rate limits: score, blocks, usage headers, mutation cap, budget-change limit.

Most tests freeze the emulated clock (time_scale=1e-9) and move it with
advance_clock(), so that the numbers are exact and nothing sleeps.
"""

from __future__ import annotations

import json
import time

import pytest

from emu_helpers import (
    ACCOUNT, CBO_CAMPAIGN, DAILY_AD, DAILY_ADSET, LIFETIME_ADSET, Api, assert_error, batch_bodies,
    make_state,
)
from fbcm_dbt.emulator import Emulator, RateLimits

FROZEN = 1e-9


def usage(resp):
    acc = json.loads(resp.headers["x-ad-account-usage"])
    buc = json.loads(resp.headers["x-business-use-case-usage"])
    app = json.loads(resp.headers["x-app-usage"])
    return acc, buc, app


@pytest.fixture
def dev():
    with Emulator(make_state(), rate_limits=RateLimits.preset("dev", time_scale=FROZEN)) as emu:
        yield emu


def test_presets():
    full = RateLimits.preset("full")
    assert (full.max_score, full.decay_seconds, full.block_seconds, full.mutations_per_second) == (9000, 300, 60, 100)
    d = RateLimits.preset("dev")
    assert (d.max_score, d.decay_seconds, d.block_seconds) == (60, 300, 300)
    assert d.access_tier == "development_access"
    assert RateLimits.preset("off").enabled is False
    assert RateLimits.preset("full", max_score=10).max_score == 10


def test_reads_cost_1_writes_cost_3_and_headers_report_it(dev):
    api = Api(dev.url)
    for _ in range(9):
        api.get(CBO_CAMPAIGN)
    r = api.post(DAILY_ADSET, name="n")          # 9 + 3 = 12 points of 60
    acc, buc, app = usage(r)
    assert acc == {"acc_id_util_pct": 20.0, "reset_time_duration": 60, "ads_api_access_tier": "development_access"}
    assert buc == {"1001": [{"type": "ads_management", "call_count": 20, "total_cputime": 20, "total_time": 20,
                             "estimated_time_to_regain_access": 0, "ads_api_access_tier": "development_access"}]}
    assert app["call_count"] == 20
    assert dev.counters()["points"] == 12


def test_listing_page_costs_one_point(dev):
    r = Api(dev.url).get(f"{ACCOUNT}/ads", limit=1)
    assert usage(r)[0]["acc_id_util_pct"] == round(100 / 60, 2)


def test_linear_decay(dev):
    api = Api(dev.url)
    for _ in range(10):
        api.post(DAILY_ADSET, name="n")           # 30 points
    dev.advance_clock(75)                        # decays 60/300 = 0.2 points/s -> -15
    acc, _, _ = usage(api.get(CBO_CAMPAIGN))     # 15 + 1
    assert acc["acc_id_util_pct"] == round(16 / 60 * 100, 2)
    assert acc["reset_time_duration"] == 80


def test_over_the_score_blocks_with_17_2446079_and_truthful_headers(dev):
    api = Api(dev.url)
    for _ in range(20):
        assert api.post(DAILY_ADSET, name="n").status_code == 200   # exactly 60
    r = api.get(CBO_CAMPAIGN)
    err = assert_error(r, 17, 2446079)
    assert err["message"] == "(#17) User request limit reached"
    assert err["is_transient"] is True
    acc, buc, _ = usage(r)
    assert acc["reset_time_duration"] == 300
    assert buc["1001"][0]["estimated_time_to_regain_access"] == 5
    assert dev.counters()["throttles"] == 1 and dev.counters()["throttles_score"] == 1


def test_calls_during_a_block_extend_it_by_default(dev):
    api = Api(dev.url)
    for _ in range(21):
        api.post(DAILY_ADSET, name="n")
    dev.advance_clock(100)
    r = api.get(CBO_CAMPAIGN)                       # still blocked; restarts the block
    assert_error(r, 17, 2446079)
    assert usage(r)[0]["reset_time_duration"] == 300
    dev.advance_clock(299)
    assert_error(api.get(CBO_CAMPAIGN), 17)
    dev.advance_clock(301)
    assert api.get(CBO_CAMPAIGN).status_code == 200


def test_block_without_extension():
    limits = RateLimits.preset("dev", time_scale=FROZEN, extend_block=False)
    with Emulator(make_state(), rate_limits=limits) as emu:
        api = Api(emu.url)
        for _ in range(21):
            api.post(DAILY_ADSET, name="n")
        emu.advance_clock(100)
        r = api.get(CBO_CAMPAIGN)
        assert_error(r, 17)
        acc, buc, _ = usage(r)
        assert acc["reset_time_duration"] == 200
        assert buc["1001"][0]["estimated_time_to_regain_access"] == 4   # 200 s, rounded up
        emu.advance_clock(200)
        assert api.get(CBO_CAMPAIGN).status_code == 200


@pytest.mark.parametrize("kind,code,subcode", [("613", 613, 1487742), ("80004", 80004, 2446079)])
def test_throttle_error_variants(kind, code, subcode):
    limits = RateLimits.preset("dev", time_scale=FROZEN, max_score=3, throttle_error=kind)
    with Emulator(make_state(), rate_limits=limits) as emu:
        api = Api(emu.url)
        for _ in range(3):
            api.get(CBO_CAMPAIGN)
        err = assert_error(api.get(CBO_CAMPAIGN), code, subcode)
        assert err["is_transient"] is True


def test_throttled_batch_operations_fail_in_their_own_entry(dev):
    api = Api(dev.url)
    ops = [{"method": "POST", "relative_url": DAILY_ADSET, "body": "name=n"}] * 21
    r = api.batch(ops)
    assert r.status_code == 200
    entries = batch_bodies(r)
    assert [c for c, _ in entries[:20]] == [200] * 20
    code, body = entries[20]
    assert code == 400 and body["error"]["code"] == 17 and body["error"]["error_subcode"] == 2446079
    acc, buc, _ = usage(r)                              # outer response carries the headers
    assert buc["1001"][0]["estimated_time_to_regain_access"] == 5
    inner = {h["name"]: h["value"] for h in r.json()[20]["headers"]}
    assert json.loads(inner["x-ad-account-usage"])["reset_time_duration"] == 300


def test_mutation_cap_613_5044001():
    limits = RateLimits.preset("full", time_scale=FROZEN, mutations_per_second=5)
    with Emulator(make_state(), rate_limits=limits) as emu:
        api = Api(emu.url)
        for _ in range(5):
            assert api.post(DAILY_ADSET, name="n").status_code == 200
        assert api.get(CBO_CAMPAIGN).status_code == 200             # reads are not mutations
        err = assert_error(api.post(DAILY_ADSET, name="n"), 613, 5044001)
        assert err["is_transient"] is True
        assert emu.counters()["throttles_mutation"] == 1
        emu.advance_clock(1.01)
        assert api.post(DAILY_ADSET, name="n").status_code == 200


def test_time_scale_lets_a_block_pass_quickly():
    limits = RateLimits.preset("dev", time_scale=1000, max_score=3)   # 300 s block = 0.3 s
    with Emulator(make_state(), rate_limits=limits) as emu:
        api = Api(emu.url)
        for _ in range(4):
            r = api.get(CBO_CAMPAIGN)
        assert_error(r, 17)
        time.sleep(0.45)
        assert api.get(CBO_CAMPAIGN).status_code == 200


def test_rate_limits_from_state_file_key():
    state = make_state()
    state["rate_limits"] = {"preset": "dev", "max_score": 2, "time_scale": FROZEN}
    with Emulator(state) as emu:
        assert emu.rate_limits.max_score == 2 and emu.rate_limits.block_seconds == 300
        api = Api(emu.url)
        api.get(CBO_CAMPAIGN)
        api.get(CBO_CAMPAIGN)
        assert_error(api.get(CBO_CAMPAIGN), 17)
        assert emu.dump_state()["rate_limits"]["preset"] == "dev"


def test_off_never_throttles_and_still_sends_headers(api):
    for _ in range(30):
        r = api.post(DAILY_ADSET, name="n")
        assert r.status_code == 200
    acc, buc, app = usage(r)
    assert acc["acc_id_util_pct"] == 0 and "1001" in buc and app["call_count"] == 0


def test_headers_on_error_responses_too(dev):
    r = Api(dev.url).get("999")
    assert {"x-ad-account-usage", "x-business-use-case-usage", "x-app-usage"} <= {k.lower() for k in r.headers}


# --- 4 budget changes per hour per ad set (applies with rate limits off too) ---

def test_fifth_budget_change_in_an_hour_613_1487632(api, emu):
    for value in (3100, 3200, 3300, 3400):
        assert api.post(DAILY_ADSET, daily_budget=str(value)).status_code == 200
    err = assert_error(api.post(DAILY_ADSET, daily_budget="3500"), 613, 1487632)
    assert emu.get_object(DAILY_ADSET)["daily_budget"] == 3400
    assert emu.counters()["throttles_budget"] == 1
    # other ad sets and non-budget edits are not affected
    assert api.post(DAILY_ADSET, status="PAUSED").status_code == 200
    assert api.post(LIFETIME_ADSET, lifetime_budget="90000").status_code == 200
    assert err["is_transient"] is True


def test_unchanged_values_and_validate_only_do_not_count(api, emu):
    for _ in range(6):
        assert api.post(DAILY_ADSET, daily_budget="3000").status_code == 200     # same value
    for value in (3100, 3200, 3300):
        api.post(DAILY_ADSET, daily_budget=str(value), execution_options='["validate_only"]')
    for value in (3100, 3200, 3300, 3400):
        assert api.post(DAILY_ADSET, daily_budget=str(value)).status_code == 200
    # validate_only reports the limit but does not start the block
    assert_error(api.post(DAILY_ADSET, daily_budget="3500", execution_options='["validate_only"]'), 613, 1487632)


def test_budget_block_lasts_an_hour_from_the_refusal(api, emu):
    for value in (3100, 3200, 3300, 3400):
        api.post(DAILY_ADSET, daily_budget=str(value))
    emu.advance_clock(600)
    assert_error(api.post(DAILY_ADSET, daily_budget="3500"), 613, 1487632)   # blocked until t+600+3600
    emu.advance_clock(3100)        # the four changes left the window, the block has not ended
    assert_error(api.post(DAILY_ADSET, daily_budget="3500"), 613, 1487632)
    emu.advance_clock(510)
    assert api.post(DAILY_ADSET, daily_budget="3500").status_code == 200


def test_campaign_budgets_not_limited_by_default(api):
    for value in (5100, 5200, 5300, 5400, 5500, 5600):
        assert api.post(CBO_CAMPAIGN, daily_budget=str(value)).status_code == 200


def test_reset_limits(dev):
    api = Api(dev.url)
    for _ in range(21):
        api.post(DAILY_AD, name="n")
    dev.reset_limits()
    assert api.get(CBO_CAMPAIGN).status_code == 200
