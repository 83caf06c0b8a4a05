"""Tokens, account access and appsecret_proof."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import requests

from emu_helpers import (
    ACCOUNT, CBO_CAMPAIGN, EXPIRED_TOKEN, FOREIGN_CAMPAIGN, OTHER_ACCOUNT, OTHER_TOKEN, TOKEN,
    Api, assert_error, make_state,
)
from fbcm_dbt.emulator import Emulator


def test_missing_token(emu):
    err = assert_error(Api(emu.url, token=None).get(CBO_CAMPAIGN, fields="name"), 104)
    assert err["message"] == "An access token is required to request this resource."
    assert err["type"] == "OAuthException"


def test_unknown_token(emu):
    r = Api(emu.url, token="nope").get(CBO_CAMPAIGN, fields="name")
    err = assert_error(r, 190, 467)
    assert err["type"] == "OAuthException"
    assert "invalid_token" in r.headers["WWW-Authenticate"]


def test_expired_token(emu):
    err = assert_error(Api(emu.url, token=EXPIRED_TOKEN).get(CBO_CAMPAIGN), 190, 463)
    assert "Session has expired" in err["message"]


@pytest.mark.parametrize("scheme", ["OAuth", "Bearer"])
def test_token_in_authorization_header(emu, scheme):
    r = requests.get(f"{emu.url}/v26.0/{CBO_CAMPAIGN}", params={"fields": "name"},
                     headers={"Authorization": f"{scheme} {TOKEN}"}, timeout=5)
    assert r.status_code == 200 and r.json()["name"] == "Brand"


def test_token_in_form_body(emu):
    r = requests.post(f"{emu.url}/v26.0/{CBO_CAMPAIGN}", data={"name": "X", "access_token": TOKEN}, timeout=5)
    assert r.json() == {"success": True}


def test_token_without_access_to_the_account_read(api):
    err = assert_error(api.get(FOREIGN_CAMPAIGN, fields="name"), 100, 33)
    assert err["type"] == "GraphMethodException"
    assert err["message"].startswith(f"Unsupported get request. Object with ID '{FOREIGN_CAMPAIGN}'")


def test_token_without_access_to_the_account_write(api, emu):
    err = assert_error(api.post(FOREIGN_CAMPAIGN, status="PAUSED"), 100, 33)
    assert err["message"].startswith("Unsupported post request.")
    assert emu.get_object(FOREIGN_CAMPAIGN)["status"] == "ACTIVE"


def test_token_without_access_to_the_account_node_and_edge(api, emu):
    assert_error(api.get(OTHER_ACCOUNT, fields="currency"), 100, 33)
    assert_error(api.get(f"{OTHER_ACCOUNT}/campaigns"), 100, 33)
    other = Api(emu.url, token=OTHER_TOKEN)
    assert other.get(FOREIGN_CAMPAIGN, fields="name").json()["name"] == "Other"
    assert_error(other.get(CBO_CAMPAIGN), 100, 33)


def _proof(secret: str, token: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def proof_emu():
    state = make_state()
    state["app"] = {"id": "42", "secret": "s3cret", "require_appsecret_proof": True}
    with Emulator(state) as emulator:
        yield emulator


def test_appsecret_proof_required_missing(proof_emu):
    err = assert_error(Api(proof_emu.url).get(CBO_CAMPAIGN), 100)
    assert err["message"] == "API calls from the server require an appsecret_proof argument"
    assert err["type"] == "GraphMethodException"


def test_appsecret_proof_wrong(proof_emu):
    err = assert_error(Api(proof_emu.url).get(CBO_CAMPAIGN, appsecret_proof="00" * 32), 100)
    assert err["message"] == "Invalid appsecret_proof provided in the API argument"


def test_appsecret_proof_right_in_query_and_body(proof_emu):
    api = Api(proof_emu.url)
    proof = _proof("s3cret", TOKEN)
    assert api.get(CBO_CAMPAIGN, fields="name", appsecret_proof=proof).status_code == 200
    assert api.post(CBO_CAMPAIGN, name="Y", appsecret_proof=proof).json() == {"success": True}


def test_appsecret_proof_batch_top_level(proof_emu):
    api = Api(proof_emu.url)
    ops = [{"method": "GET", "relative_url": f"{CBO_CAMPAIGN}?fields=name"}]
    err = assert_error(api.batch(ops), 100)
    assert "appsecret_proof" in err["message"]
    r = api.batch(ops, appsecret_proof=_proof("s3cret", TOKEN))
    assert r.status_code == 200 and r.json()[0]["code"] == 200


def test_appsecret_proof_checked_when_given_but_not_required():
    state = make_state()
    state["app"] = {"secret": "s3cret", "require_appsecret_proof": False}
    with Emulator(state) as emu:
        api = Api(emu.url)
        assert api.get(CBO_CAMPAIGN).status_code == 200          # not required
        assert_error(api.get(CBO_CAMPAIGN, appsecret_proof="bad"), 100)
        assert api.get(CBO_CAMPAIGN, appsecret_proof=_proof("s3cret", TOKEN)).status_code == 200


def test_account_reachable_by_token(api):
    assert api.get(ACCOUNT, fields="currency").json()["currency"] == "BRL"
