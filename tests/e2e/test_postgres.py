"""Any warehouse, proven: the example built on a real PostgreSQL server with dbt-postgres and synced
through the same code path."""

from __future__ import annotations

import shutil

from tests.conftest import EXAMPLE, run_dbt, run_fbcm
from tests.e2e.test_example_sync import EXPECTED_CHANGES, assert_state


def test_sync_from_postgres_matches_the_duckdb_result(postgres, emulator, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    run_dbt(["build", "--target", "postgres"], project, extra_env=postgres.env())
    result = run_fbcm(["sync", "--target", "postgres"], project, emulator.url, extra_env=postgres.env())
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # BIGINT ids and NUMERIC(18,2) budgets arrive exactly: every object matches by its 18-digit id
    assert_state(emulator, EXPECTED_CHANGES)
    emulator.reset_counters()
    again = run_fbcm(["sync", "--target", "postgres"], project, emulator.url, extra_env=postgres.env())
    assert again.code == 0 and emulator.counters()["writes"] == 0

