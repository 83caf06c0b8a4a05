from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_dbt

RULES = Path(__file__).parent / "projects" / "rules"
RULES_TOKEN = "rules-token"


def rules_state() -> dict:
    return yaml.safe_load((RULES / "emulator_state.yml").read_text())


@pytest.fixture(scope="session")
def built_rules(tmp_path_factory) -> Path:
    """The bad-input project after a real `dbt build` on DuckDB."""
    project = tmp_path_factory.mktemp("rules") / "project"
    shutil.copytree(RULES, project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    run_dbt(["build"], project)
    return project


@pytest.fixture
def rules_copy(built_rules, tmp_path) -> Path:
    """A private copy of the built rules project: each test's ledger starts empty."""
    project = tmp_path / "rules"
    shutil.copytree(built_rules, project)
    return project


@pytest.fixture
def rules_emulator():
    from fbcm_dbt.emulator import Emulator, Faults

    faults = Faults(silent_noop_ids=frozenset({"200000000000000012", "200000000000000015"}))
    with Emulator(rules_state(), faults=faults) as emu:
        yield emu
