"""The access token never appears in any output: stdout, stderr, logs, plan files, dbt artifacts,
the warehouse file, or the emulator's request log."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import TOKEN, run_fbcm
from tests.e2e.conftest import RULES_TOKEN


def files_containing(root: Path, secret: str) -> list[str]:
    """Every file under root holding the secret, except the emulator's own state (its list of valid tokens)."""
    hits = []
    for path in root.rglob("*"):
        if path.name == "emulator_state.yml":
            continue
        if path.is_file() and secret.encode() in path.read_bytes():
            hits.append(str(path))
    return hits


def test_token_appears_in_no_output_of_a_full_cycle(example_copy, emulator, tmp_path):
    plan_file = example_copy / "plan.json"
    outputs = [
        run_fbcm(["--log-level", "debug", "plan", "-o", str(plan_file), "--validate"], example_copy, emulator.url),
        run_fbcm(["--log-level", "debug", "apply", str(plan_file)], example_copy, emulator.url),
        run_fbcm(["--log-level", "debug", "sync", "--output", "json"], example_copy, emulator.url),
        run_fbcm(["ls"], example_copy, emulator.url),
    ]
    assert outputs[1].code == 0, outputs[1].stdout + outputs[1].stderr
    for result in outputs:
        assert TOKEN not in result.stdout and TOKEN not in result.stderr
    assert files_containing(example_copy, TOKEN) == []
    assert TOKEN not in repr(emulator.request_log())


def test_token_absent_from_payload_logs_and_failures(rules_copy, rules_emulator):
    result = run_fbcm(["--log-level", "debug", "sync", "--select", "lenient_go_on", "--select", "bad_rows"],
                      rules_copy, rules_emulator.url, RULES_TOKEN)
    assert result.code == 1  # a silent no-op and bad rows: failures are reported...
    assert RULES_TOKEN not in result.stdout + result.stderr  # ...without the token
    assert files_containing(rules_copy, RULES_TOKEN) == []


def test_a_rejected_token_is_reported_without_echoing_it(example_copy, emulator):
    result = run_fbcm(["sync"], example_copy, emulator.url, token="wrong-token-123456")
    assert result.code == 2 and "190" in result.stderr
    assert "wrong-token-123456" not in result.stdout + result.stderr


def test_appsecret_proof_is_sent_when_the_app_requires_it(example_copy):
    from fbcm_dbt.emulator import Emulator
    from tests.conftest import example_state

    state = example_state()
    state["app"] = {"secret": "s3cret-app", "require_appsecret_proof": True}
    with Emulator(state) as emu:
        refused = run_fbcm(["plan"], example_copy, emu.url)
        assert refused.code == 2 and "appsecret_proof" in refused.stderr
        accepted = run_fbcm(["plan"], example_copy, emu.url, extra_env={"FBCM_APP_SECRET": "s3cret-app"})
        assert accepted.code == 0, accepted.stderr
        assert "s3cret-app" not in accepted.stdout + accepted.stderr
