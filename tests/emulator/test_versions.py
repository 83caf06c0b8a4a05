"""API versions, unversioned paths and the retired multi-id root request."""

from __future__ import annotations

import requests

from emu_helpers import CBO_CAMPAIGN, TOKEN, Api, assert_error
from fbcm_dbt.emulator import Emulator


def test_served_versions(api):
    for version in ("v25.0", "v26.0", "v27.0"):
        r = Api(api.url, version=version).get(CBO_CAMPAIGN, fields="name")
        assert r.status_code == 200
        assert r.headers["facebook-api-version"] == version


def test_deprecated_version_2635(emu):
    err = assert_error(Api(emu.url, version="v24.0").get(CBO_CAMPAIGN), 2635)
    assert err["message"].startswith("(#2635) You are calling a deprecated version of the Ads API.")
    assert err["type"] == "OAuthException"


def test_deprecated_version_on_writes_changes_nothing(emu):
    assert_error(Api(emu.url, version="v21.0").post(CBO_CAMPAIGN, status="PAUSED"), 2635)
    assert emu.get_object(CBO_CAMPAIGN)["status"] == "ACTIVE"


def test_unversioned_path(emu):
    err = assert_error(Api(emu.url, version="").get(CBO_CAMPAIGN, fields="name"), 2635)
    assert "Unversioned" in err["message"]


def test_root_multi_id_is_retired(emu):
    for url in (f"{emu.url}/", f"{emu.url}/v26.0/"):
        r = requests.get(url, params={"ids": CBO_CAMPAIGN, "fields": "name", "access_token": TOKEN}, timeout=5)
        err = assert_error(r, 100)
        assert "Multi-ID" in err["message"] and "not supported" in err["message"]


def test_api_versions_override(state):
    with Emulator(state, api_versions=["v27.0"]) as emu:
        assert_error(Api(emu.url, version="v26.0").get(CBO_CAMPAIGN), 2635)
        assert Api(emu.url, version="v27.0").get(CBO_CAMPAIGN).status_code == 200


def test_every_graph_response_has_trace_and_version_headers(api):
    for r in (api.get(CBO_CAMPAIGN), api.get("nope"), Api(api.url, version="v1.0").get(CBO_CAMPAIGN)):
        assert r.headers["x-fb-trace-id"]
        assert r.headers["facebook-api-version"].startswith("v")
