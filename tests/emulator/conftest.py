"""Fixtures for the emulator tests: a fresh state, a running emulator, a client.

The helpers live in ``emu_helpers.py``; this folder is put on sys.path so test
modules can import it whatever pytest import mode the project uses.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emu_helpers import Api, make_state  # noqa: E402

from fbcm_dbt.emulator import Emulator  # noqa: E402


@pytest.fixture
def state() -> dict[str, Any]:
    return make_state()


@pytest.fixture
def emu(state):
    with Emulator(state) as emulator:
        yield emulator


@pytest.fixture
def api(emu) -> Api:
    return Api(emu.url)
