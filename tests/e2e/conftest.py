from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import build_copy, private_copy

RULES = Path(__file__).parent / "projects" / "rules"
RULES_TOKEN = "rules-token"


def rules_state() -> dict:
    return yaml.safe_load((RULES / "emulator_state.yml").read_text())


@pytest.fixture(scope="session")
def built_rules(tmp_path_factory) -> Path:
    """The bad-input project after a real `dbt build`; take `rules_copy` before syncing."""
    return build_copy(RULES, tmp_path_factory.mktemp("rules") / "project")


@pytest.fixture
def rules_copy(built_rules, tmp_path) -> Path:
    return private_copy(built_rules, tmp_path / "rules")


@pytest.fixture
def rules_emulator():
    from fbcm_dbt.emulator import Emulator, Faults

    faults = Faults(silent_noop_ids=frozenset({"200000000000000012", "200000000000000015"}))
    with Emulator(rules_state(), faults=faults) as emu:
        yield emu
