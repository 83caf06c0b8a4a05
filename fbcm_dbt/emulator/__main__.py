"""``python -m fbcm_dbt.emulator --port 0 --state state.yml``"""

from .cli import emulator

if __name__ == "__main__":
    emulator(prog_name="python -m fbcm_dbt.emulator")
