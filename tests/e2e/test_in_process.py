"""fbcm used as a library inside one long-lived process (an orchestrator): each project reads its
own warehouse, even when two projects name their DuckDB file the same relative way."""

from __future__ import annotations

from fbcm_dbt.dbt.backend import DbtProject
from fbcm_dbt.pipeline import SyncOptions, find_targets, read_desired
from tests.bulk import make_bulk
from tests.conftest import run_dbt


def test_two_projects_with_the_same_relative_duckdb_path_read_their_own_rows(tmp_path, monkeypatch):
    small = make_bulk(tmp_path / "small", 3, 500)
    large = make_bulk(tmp_path / "large", 7, 500)
    for bulk in (small, large):
        run_dbt(["build"], bulk.project)
    counts = []
    for bulk in (small, large, small):
        monkeypatch.chdir(bulk.project)
        options = SyncOptions(project=DbtProject(bulk.project, bulk.project))
        (model_input,) = read_desired(options, find_targets(options).ready)
        counts.append(model_input.desired.row_count)
    assert counts == [3, 7, 3]
