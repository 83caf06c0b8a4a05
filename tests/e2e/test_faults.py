"""What networks and Meta do, survived: every fault ends with every object accounted for (applied,
unchanged, deferred, or failed with a reason), nothing written twice, and the right exit code.

The runs go through the same pipeline as `fbcm sync`, in-process so the client's clock can be
scaled with the emulator's (a 300 s block passes in a fraction of a second)."""

from __future__ import annotations

import time

import pytest

from fbcm_dbt.apply import Outcome
from fbcm_dbt.meta.client import ClientSettings
from fbcm_dbt.meta.pacing import PacingSettings
from fbcm_dbt.pipeline import LedgerOptions, SyncOptions, run_sync
from fbcm_dbt.dbt.backend import DbtProject
from tests.bulk import TOKEN, make_bulk
from tests.conftest import run_dbt

N = 200


@pytest.fixture(scope="module")
def bulk(tmp_path_factory):
    bulk = make_bulk(tmp_path_factory.mktemp("bulk") / "project", N, changed_per_mille=500)
    run_dbt(["build"], bulk.project)
    return bulk


def scaled(scale: float) -> dict:
    """The client's clock and sleep in the emulator's time."""
    return {"clock": lambda: time.monotonic() * scale, "sleep": lambda seconds: time.sleep(seconds / scale)}


def sync(bulk, emulator, monkeypatch, scale: float = 1000.0, pacing: bool = True):
    monkeypatch.chdir(bulk.project)
    options = SyncOptions(project=DbtProject(bulk.project, bulk.project), ledger=LedgerOptions(enabled=False))
    settings = ClientSettings(graph_url=emulator.url, pacing=PacingSettings(enabled=pacing))
    return run_sync(options, settings, environ={"FBCM_ACCESS_TOKEN": TOKEN}, client_kwargs=scaled(scale))


def assert_converged(bulk, emulator, report):
    outcomes = {w.item.object_id: w.outcome for w in report.writes}
    assert set(outcomes) == bulk.changed_ids  # every change has exactly one outcome
    for object_id, outcome in outcomes.items():
        live = emulator.get_object(object_id)
        want = bulk.desired(object_id) if outcome is Outcome.APPLIED else {"status": "ACTIVE", "daily_budget": 5000}
        assert {k: live[k] for k in want} == want, (object_id, outcome)
    applied = sum(1 for o in outcomes.values() if o is Outcome.APPLIED)
    assert emulator.counters()["writes_applied"] == applied  # nothing written twice


@pytest.mark.parametrize("faults", [
    {"http_5xx_rate": 0.3},
    {"html_error_rate": 0.3},
    {"transient_error_rate": 0.2},
    {"batch_null_rate": 0.2},
    {"drop_connection_rate": 0.3},
    {"http_5xx_rate": 0.1, "batch_null_rate": 0.1, "latency_ms": 30},
], ids=lambda f: ",".join(f))
def test_retryable_faults_end_with_everything_applied(bulk, monkeypatch, faults):
    from fbcm_dbt.emulator import Emulator, Faults

    with Emulator(bulk.state, faults=Faults(**faults), seed=7) as emulator:
        report = sync(bulk, emulator, monkeypatch)
        fault_counts = {k: v for k, v in emulator.counters().items()
                        if (k.startswith("faults_") or k == "batch_nulls") and v}
        assert fault_counts, "the fault never fired: the test would prove nothing"
        assert report.exit_code == 0, [w.message for w in report.writes if w.outcome is not Outcome.APPLIED]
        assert_converged(bulk, emulator, report)


def test_silent_no_ops_are_caught_by_read_after_write(bulk, monkeypatch):
    from fbcm_dbt.emulator import Emulator, Faults

    with Emulator(bulk.state, faults=Faults(silent_noop_rate=0.1), seed=3) as emulator:
        report = sync(bulk, emulator, monkeypatch)
        failed = [w for w in report.writes if w.outcome is Outcome.FAILED]
        assert report.exit_code == 1 and len(failed) == emulator.counters()["silent_noops"] > 0
        assert all("did not take effect" in w.message for w in failed)
        assert_converged(bulk, emulator, report)


def test_throttled_without_pacing_waits_as_long_as_meta_says_and_finishes(bulk, monkeypatch):
    from fbcm_dbt.emulator import Emulator, RateLimits

    # 150 points against 306 for the run (100 writes of 3 points, plus reads): blocked at least once,
    # and with four batches in flight every one of them must wait out the block, or it never ends
    limits = RateLimits.preset("full", max_score=150, time_scale=100.0)
    with Emulator(bulk.state, rate_limits=limits) as emulator:
        report = sync(bulk, emulator, monkeypatch, scale=100.0, pacing=False)
        assert emulator.counters()["throttles"] > 0
        assert report.exit_code == 0
        assert_converged(bulk, emulator, report)


def test_pacing_keeps_a_limited_run_from_ever_being_blocked(bulk, monkeypatch):
    from fbcm_dbt.emulator import Emulator, RateLimits

    limits = RateLimits.preset("dev", time_scale=1000.0)  # 60 points: a batch of 50 writes would not even fit
    with Emulator(bulk.state, rate_limits=limits) as emulator:
        report = sync(bulk, emulator, monkeypatch, scale=1000.0, pacing=True)
        assert emulator.counters()["throttles"] == 0
        assert report.exit_code == 0
        assert_converged(bulk, emulator, report)


def test_an_expired_token_stops_the_run_before_any_write(bulk, monkeypatch):
    from fbcm_dbt.emulator import Emulator
    from fbcm_dbt.errors import AuthError

    state = {**bulk.state, "tokens": [{"token": TOKEN, "accounts": ["act_9"], "expired": True}]}
    with Emulator(state) as emulator:
        with pytest.raises(AuthError, match="190"):
            sync(bulk, emulator, monkeypatch)
        assert emulator.counters()["writes"] == 0


def test_meta_unreachable_mid_run_stops_with_every_change_accounted_for(bulk, monkeypatch):
    from fbcm_dbt.emulator import Emulator, Faults
    from fbcm_dbt.pipeline import Hooks

    with Emulator(bulk.state) as emulator:
        def cut_the_line(batch):
            emulator.set_faults(Faults(drop_connection_rate=1.0))  # after the first batch, nothing answers

        monkeypatch.chdir(bulk.project)
        options = SyncOptions(project=DbtProject(bulk.project, bulk.project), ledger=LedgerOptions(enabled=False))
        report = run_sync(options, ClientSettings(graph_url=emulator.url), environ={"FBCM_ACCESS_TOKEN": TOKEN},
                          hooks=Hooks(on_batch=cut_the_line), client_kwargs=scaled(1000.0))
        assert report.exit_code == 1 and "cannot reach" in report.stopped
        outcomes = {w.item.object_id: w.outcome for w in report.writes}
        assert set(outcomes) == bulk.changed_ids
        assert Outcome.APPLIED in outcomes.values()
        assert set(outcomes.values()) <= {Outcome.APPLIED, Outcome.FAILED, Outcome.NOT_ATTEMPTED}
        in_flight = [w for w in report.writes if w.outcome is Outcome.FAILED]  # sent when the line was cut
        assert in_flight and all("outcome unknown" in w.message for w in in_flight)
        emulator.set_faults(Faults())
        assert_converged(bulk, emulator, report)
