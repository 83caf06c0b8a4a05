"""A generated dbt project and matching emulator state of any size: N ad sets of one account, a
given share of which the model changes. Used by the fault tests and by the benchmarks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ACCOUNT = "act_9"
TOKEN = "bulk-token"
ADSETS_PER_CAMPAIGN = 2
BASE_ID = 200_000_000_000_000_000
CAMPAIGN_BASE_ID = 100_000_000_000_000_000
BUDGET = 5000


@dataclass(frozen=True)
class Bulk:
    project: Path
    state: dict
    changed_ids: frozenset[str]

    def desired(self, object_id: str) -> dict:
        changed = object_id in self.changed_ids
        return {"status": "PAUSED" if changed and int(object_id) % 2 else "ACTIVE",
                "daily_budget": BUDGET + 500 if changed and not int(object_id) % 2 else BUDGET}


def is_changed(i: int, changed_per_mille: int) -> bool:
    return (i * 7919) % 1000 < changed_per_mille  # spread evenly, deterministic


def make_bulk(root: Path, n: int, changed_per_mille: int, continue_on_error: bool = True) -> Bulk:
    """Write the project to `root` (not built) and return it with the emulator state."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text("name: fbcm_bulk\nversion: '1.0'\nprofile: fbcm_bulk\n"
                                          "models:\n  fbcm_bulk:\n    +materialized: table\n")
    (root / "profiles.yml").write_text("fbcm_bulk:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                                       "      path: bulk.duckdb\n      threads: 1\n")
    (root / "models" / "bulk_desired.sql").write_text(f"""
with ids as (select i from range(1, {n} + 1) as t(i)),
decided as (select i, ((i * 7919) % 1000) < {changed_per_mille} as changed from ids)
select
    cast({BASE_ID} + i as varchar) as object_id,
    case when changed and ({BASE_ID} + i) % 2 = 1 then 'PAUSED' else 'ACTIVE' end as desired_status,
    cast(case when changed and ({BASE_ID} + i) % 2 = 0 then {BUDGET + 500} else {BUDGET} end as bigint) as daily_budget
from decided
""")
    block = {"account_id": ACCOUNT, "continue_on_error": continue_on_error,
             "columns": {"id": "object_id", "status": "desired_status", "daily_budget": "daily_budget"},
             "guardrails": {"max_changed_fraction": None, "max_paused_fraction": None, "max_activations": None}}
    (root / "models" / "schema.yml").write_text(json.dumps(
        {"version": 2, "models": [{"name": "bulk_desired", "config": {"tags": ["fbcm"], "meta": {"fbcm": block}}}]}))
    campaigns = [{"id": str(CAMPAIGN_BASE_ID + c), "account_id": ACCOUNT, "name": f"Campaign {c}", "status": "ACTIVE"}
                 for c in range(1, n // ADSETS_PER_CAMPAIGN + 2)]
    adsets = [{"id": str(BASE_ID + i), "campaign_id": str(CAMPAIGN_BASE_ID + 1 + (i - 1) // ADSETS_PER_CAMPAIGN),
               "name": f"Ad set {i}", "status": "ACTIVE", "daily_budget": BUDGET, "end_time": None, "amount_spent": 0}
              for i in range(1, n + 1)]
    state = {"accounts": [{"id": ACCOUNT, "name": "Bulk", "currency": "USD", "min_daily_budget": 100,
                           "timezone_name": "UTC"}],
             "tokens": [{"token": TOKEN, "accounts": [ACCOUNT]}],
             "campaigns": campaigns, "adsets": adsets, "ads": []}
    changed = frozenset(str(BASE_ID + i) for i in range(1, n + 1) if is_changed(i, changed_per_mille))
    return Bulk(root, state, changed)
