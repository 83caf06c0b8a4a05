"""``fbcm emulator``: run the Marketing API emulator until SIGINT/SIGTERM.

Prints exactly one line, the base URL, on stdout first (so a parent process can
read it), then serves. Rate limits: the state file's ``rate_limits:`` is the
base (else "off"); ``--rate-limits`` replaces it with a preset; the numeric
flags override fields on top (a numeric flag on top of "off" starts from the
"full" preset).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click
import yaml

from .faults import Faults
from .limits import RateLimits
from .server import Emulator
from .store import StateError, load_state


def resolve_rate_limits(
    state: dict, preset: str | None, overrides: dict[str, object]
) -> RateLimits:
    limits = RateLimits.preset(preset) if preset else RateLimits.from_config(state.get("rate_limits"))
    given = {k: v for k, v in overrides.items() if v is not None}
    numeric = {k: v for k, v in given.items() if k != "time_scale"}
    if numeric and not limits.enabled:
        limits = RateLimits.preset("full", time_scale=limits.time_scale)
    return limits.with_overrides(**given)


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=0, show_default=True, help="Port; 0 picks a free one.")
@click.option("--state", "state_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="State file (YAML) with accounts, tokens, campaigns, ad sets, ads.")
@click.option("--rate-limits", "preset", type=click.Choice(["full", "dev", "off"]),
              help="Rate-limit preset (default: the state file's rate_limits, else off).")
@click.option("--time-scale", type=float, help="Emulated seconds per real second.")
@click.option("--max-score", type=float, help="Ad-account score limit.")
@click.option("--decay-seconds", type=float, help="Seconds for a full score to decay to 0.")
@click.option("--block-seconds", type=float, help="Block length once the score is exceeded.")
@click.option("--mutations-per-second", type=int, help="Write cap per account per second.")
@click.option("--throttle-error", type=click.Choice(["17", "613", "80004"]),
              help="Error code answered when the score is exceeded.")
@click.option("--latency-ms", type=float, default=0, help="Added latency per request.")
@click.option("--http-5xx-rate", type=float, default=0, help="Share of requests answered HTTP 503.")
@click.option("--html-error-rate", type=float, default=0, help="Share answered HTTP 502 with an HTML body.")
@click.option("--transient-error-rate", type=float, default=0,
              help="Share answered HTTP 500, code 1 or 2, is_transient.")
@click.option("--batch-null-rate", type=float, default=0, help="Share of batch operations answered null.")
@click.option("--drop-connection-rate", type=float, default=0, help="Share of connections closed unanswered.")
@click.option("--silent-noop-rate", type=float, default=0, help="Share of writes that succeed without effect.")
@click.option("--silent-noop-id", "silent_noop_ids", multiple=True,
              help="Writes to this object id succeed without effect (repeatable).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault RNG.")
@click.option("--api-version", "api_versions", multiple=True,
              help="Serve this API version (repeatable; default v25.0 v26.0 v27.0).")
@click.option("--dump-state-on-exit", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the final state (YAML) here on shutdown.")
def emulator(
    host: str, port: int, state_path: Path, preset: str | None, time_scale: float | None,
    max_score: float | None, decay_seconds: float | None, block_seconds: float | None,
    mutations_per_second: int | None, throttle_error: str | None, latency_ms: float,
    http_5xx_rate: float, html_error_rate: float, transient_error_rate: float,
    batch_null_rate: float, drop_connection_rate: float, silent_noop_rate: float,
    silent_noop_ids: tuple[str, ...], seed: int, api_versions: tuple[str, ...],
    dump_state_on_exit: Path | None,
) -> None:
    """Run a local HTTP stand-in for Meta's Marketing API."""
    try:
        state = load_state(state_path)
        limits = resolve_rate_limits(state, preset, {
            "time_scale": time_scale, "max_score": max_score, "decay_seconds": decay_seconds,
            "block_seconds": block_seconds, "mutations_per_second": mutations_per_second,
            "throttle_error": throttle_error,
        })
        faults: Faults | None = Faults(
            latency_ms=latency_ms, http_5xx_rate=http_5xx_rate, html_error_rate=html_error_rate,
            transient_error_rate=transient_error_rate, batch_null_rate=batch_null_rate,
            drop_connection_rate=drop_connection_rate, silent_noop_rate=silent_noop_rate,
            silent_noop_ids=frozenset(silent_noop_ids),
        )
        if faults == Faults():
            faults = None  # no fault flags: the state file's optional faults: key applies
        emu = Emulator(state, rate_limits=limits, faults=faults, seed=seed, host=host, port=port,
                       api_versions=list(api_versions) or None)
    except (StateError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc

    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _on_signal)
    emu.start()
    try:
        click.echo(emu.url)
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if dump_state_on_exit is not None:
            dump_state_on_exit.write_text(
                yaml.safe_dump(emu.dump_state(), sort_keys=False, allow_unicode=True), encoding="utf-8"
            )
