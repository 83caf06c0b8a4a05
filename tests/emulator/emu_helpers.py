"""Shared helpers of the emulator tests: the test state, a tiny Graph client and
error assertions. Everything goes over real HTTP with ``requests``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import requests


ACCOUNT = "act_1001"
OTHER_ACCOUNT = "act_2002"
TOKEN = "test-token"
OTHER_TOKEN = "other-token"
EXPIRED_TOKEN = "old-token"

CBO_CAMPAIGN = "120000000000000001"   # campaign budget 5000
CBO_ADSET = "120000000000000011"      # no budget (the campaign holds it)
CBO_AD = "120000000000000021"
ABO_CAMPAIGN = "120000000000000002"   # no budget; ad sets hold them
DAILY_ADSET = "120000000000000012"    # daily 3000, spent 1000
LIFETIME_ADSET = "120000000000000013" # lifetime 100000, spent 50000, ends in 10 days
DAILY_AD = "120000000000000022"
LIFETIME_AD = "120000000000000023"
FOREIGN_CAMPAIGN = "120000000000000003"  # in act_2002: test-token cannot reach it


def make_state() -> dict[str, Any]:
    end = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=10)).replace(microsecond=0)
    return {
        "accounts": [
            {"id": ACCOUNT, "name": "Main", "currency": "BRL", "min_daily_budget": 500,
             "timezone_name": "America/Sao_Paulo"},
            {"id": OTHER_ACCOUNT, "currency": "USD", "min_daily_budget": 100, "timezone_name": "UTC"},
        ],
        "tokens": [
            {"token": TOKEN, "accounts": [ACCOUNT]},
            {"token": OTHER_TOKEN, "accounts": [OTHER_ACCOUNT]},
            {"token": EXPIRED_TOKEN, "accounts": [ACCOUNT], "expired": True},
        ],
        "campaigns": [
            {"id": CBO_CAMPAIGN, "account_id": ACCOUNT, "name": "Brand", "status": "ACTIVE",
             "daily_budget": 5000, "objective": "OUTCOME_TRAFFIC"},
            {"id": ABO_CAMPAIGN, "account_id": ACCOUNT, "name": "Prospecting", "status": "ACTIVE"},
            {"id": FOREIGN_CAMPAIGN, "account_id": OTHER_ACCOUNT, "name": "Other", "status": "ACTIVE",
             "daily_budget": 1000},
        ],
        "adsets": [
            {"id": CBO_ADSET, "campaign_id": CBO_CAMPAIGN, "name": "Brand BR", "status": "PAUSED",
             "end_time": None, "amount_spent": 0},
            {"id": DAILY_ADSET, "campaign_id": ABO_CAMPAIGN, "name": "Daily", "status": "ACTIVE",
             "daily_budget": 3000, "end_time": None, "amount_spent": 1000},
            {"id": LIFETIME_ADSET, "campaign_id": ABO_CAMPAIGN, "name": "Lifetime", "status": "ACTIVE",
             "lifetime_budget": 100000, "end_time": end.isoformat(), "amount_spent": 50000},
        ],
        "ads": [
            {"id": CBO_AD, "adset_id": CBO_ADSET, "name": "Ad 1", "status": "ACTIVE"},
            {"id": DAILY_AD, "adset_id": DAILY_ADSET, "name": "Ad 2", "status": "ACTIVE"},
            {"id": LIFETIME_AD, "adset_id": LIFETIME_ADSET, "name": "Ad 3", "status": "ACTIVE"},
        ],
    }


class Api:
    """Tiny Graph client for tests: token in the query string, like Meta's SDK."""

    def __init__(self, url: str, token: str | None = TOKEN, version: str = "v26.0") -> None:
        self.url = url
        self.token = token
        self.version = version
        self.session = requests.Session()

    def _auth(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.token is not None and "access_token" not in params:
            params = {**params, "access_token": self.token}
        return params

    def path(self, path: str) -> str:
        return f"{self.url}/{self.version}/{path}" if self.version else f"{self.url}/{path}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.path(path), params=self._auth(params), timeout=10)

    def post(self, path: str, **params: Any) -> requests.Response:
        return self.session.post(self.path(path), data=self._auth(params), timeout=10)

    def batch(self, ops: list[dict], **params: Any) -> requests.Response:
        data = self._auth({"batch": json.dumps(ops), **params})
        return self.session.post(self.path(""), data=data, timeout=10)

    def admin(self, method: str, path: str, payload: dict | None = None) -> requests.Response:
        return self.session.request(method, f"{self.url}/__emulator/{path}", json=payload, timeout=10)


def error_of(resp: requests.Response) -> dict[str, Any]:
    body = resp.json()
    assert "error" in body, body
    return body["error"]


def assert_error(resp: requests.Response, code: int, subcode: int | None = None, status: int = 400) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.text)
    err = error_of(resp)
    assert err["code"] == code, err
    if subcode is not None:
        assert err.get("error_subcode") == subcode, err
    for key in ("message", "type", "is_transient", "fbtrace_id"):
        assert key in err, err
    return err


def batch_bodies(resp: requests.Response) -> list[Any]:
    assert resp.status_code == 200, resp.text
    return [None if e is None else (e["code"], json.loads(e["body"])) for e in resp.json()]
