"""A local HTTP stand-in for Meta's Marketing API (see README.md in this folder).

It plays Meta: it shares no code with the rest of fbcm, so that it cannot
inherit the client's assumptions.

    from fbcm_dbt.emulator import Emulator, Faults, RateLimits, load_state

    with Emulator("state.yml", rate_limits=RateLimits.preset("dev")) as emu:
        requests.post(f"{emu.url}/v26.0/120000000000000001",
                      data={"status": "PAUSED", "access_token": "test-token"})
        print(emu.counters(), emu.dump_state())
"""

from .faults import Faults
from .limits import BudgetChangeLimit, RateLimits
from .server import Emulator
from .store import StateError, load_state

__all__ = ["BudgetChangeLimit", "Emulator", "Faults", "RateLimits", "StateError", "load_state"]
