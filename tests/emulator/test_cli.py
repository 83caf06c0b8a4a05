"""The ``emulator`` click command, run as ``python -m fbcm_dbt.emulator``."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests
import yaml

from emu_helpers import CBO_CAMPAIGN, DAILY_ADSET, TOKEN, make_state
from fbcm_dbt.emulator import RateLimits
from fbcm_dbt.emulator.cli import emulator as emulator_command
from fbcm_dbt.emulator.cli import resolve_rate_limits


def _start(tmp_path, *args):
    state = tmp_path / "state.yml"
    state.write_text(yaml.safe_dump(make_state()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "fbcm_dbt.emulator", "--port", "0", "--state", str(state), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = proc.stdout.readline().strip()
    return proc, url


def test_cli_prints_url_serves_and_dumps_on_sigterm(tmp_path):
    dump = tmp_path / "out.yml"
    proc, url = _start(tmp_path, "--dump-state-on-exit", str(dump), "--rate-limits", "dev",
                       "--max-score", "5", "--time-scale", "1e-9")
    try:
        assert url.startswith("http://127.0.0.1:")
        get = lambda: requests.get(f"{url}/v26.0/{CBO_CAMPAIGN}", params={"access_token": TOKEN}, timeout=5)
        r = requests.post(f"{url}/v26.0/{DAILY_ADSET}", data={"status": "PAUSED", "access_token": TOKEN}, timeout=5)
        assert r.json() == {"success": True}
        assert get().status_code == 200 and get().status_code == 200   # 3 + 1 + 1 = 5 = max score
        assert get().json()["error"]["code"] == 17                       # the flags took effect
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out == ""   # exactly one line (already read), nothing else
    dumped = yaml.safe_load(dump.read_text())
    assert next(a for a in dumped["adsets"] if a["id"] == DAILY_ADSET)["status"] == "PAUSED"


def test_cli_fault_flags(tmp_path):
    proc, url = _start(tmp_path, "--http-5xx-rate", "1", "--seed", "3")
    try:
        r = requests.get(f"{url}/v26.0/{CBO_CAMPAIGN}", params={"access_token": TOKEN}, timeout=5)
        assert r.status_code == 503
        assert requests.get(f"{url}/__emulator/counters", timeout=5).json()["faults_5xx"] == 1
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_cli_is_a_click_command_named_emulator():
    assert emulator_command.name == "emulator"
    params = {p.name for p in emulator_command.params}
    assert {"host", "port", "state_path", "preset", "time_scale", "max_score", "block_seconds",
            "decay_seconds", "latency_ms", "seed", "dump_state_on_exit"} <= params


def test_cli_bad_state_file(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("campaigns: [{id: '1', account_id: act_9}]\n")
    proc = subprocess.run([sys.executable, "-m", "fbcm_dbt.emulator", "--state", str(bad)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "unknown account" in proc.stderr


@pytest.mark.parametrize("state_cfg,preset,overrides,expect", [
    (None, None, {}, RateLimits.preset("off")),
    ({"preset": "dev"}, None, {}, RateLimits.preset("dev")),
    ({"preset": "dev"}, "full", {}, RateLimits.preset("full")),
    (None, None, {"max_score": 10}, RateLimits.preset("full", max_score=10)),
    ({"preset": "dev", "time_scale": 100}, None, {"block_seconds": 5},
     RateLimits.preset("dev", time_scale=100, block_seconds=5)),
])
def test_rate_limit_resolution(state_cfg, preset, overrides, expect):
    state = {"rate_limits": state_cfg} if state_cfg else {}
    assert resolve_rate_limits(state, preset, overrides) == expect
