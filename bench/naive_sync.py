"""The naive way, as the seed describes it: read the desired-state rows and send one POST per row,
sequentially, with no diff against live state and no retry. The benchmark's baseline.

    python bench/naive_sync.py DUCKDB_FILE TABLE GRAPH_URL   (token in FBCM_ACCESS_TOKEN)
"""

from __future__ import annotations

import json
import os
import sys

import duckdb
import requests


def main(database: str, table: str, graph_url: str) -> None:
    with duckdb.connect(database, read_only=True) as con:
        rows = con.execute(f"select object_id, desired_status, daily_budget from {table}").fetchall()
    token = os.environ["FBCM_ACCESS_TOKEN"]
    session = requests.Session()
    outcomes = {"ok": 0, "error": 0, "throttled": 0}
    for object_id, status, budget in rows:
        response = session.post(f"{graph_url}/v26.0/{object_id}",
                                data={"status": status, "daily_budget": budget, "access_token": token}, timeout=60)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        code = (body.get("error") or {}).get("code") if isinstance(body, dict) else None
        outcomes["ok" if response.ok else ("throttled" if code in (4, 17, 613, 80004) else "error")] += 1
    print(json.dumps(outcomes))


if __name__ == "__main__":
    main(*sys.argv[1:4])
