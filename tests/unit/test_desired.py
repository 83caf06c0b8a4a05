"""Row rules: each bad value becomes an issue naming model, id and column; good rows go on."""

from decimal import Decimal

import pytest

from fbcm_dbt.config import parse_spec
from fbcm_dbt.table import Column, RawTable
from fbcm_dbt.desired import normalize_id, parse_rows
from fbcm_dbt.errors import ConfigError

SPEC = parse_spec({"account_id": "act_1", "columns": {"id": "object_id", "status": "st", "daily_budget": "daily",
                                                     "lifetime_budget": "lifetime"}}, "model m")
CURRENCY_SPEC = parse_spec({"account_id": "act_1", "budgets_in_account_currency": True,
                            "columns": {"id": "object_id", "daily_budget": "daily"}}, "model m")
COLUMNS = (Column("object_id", "VARCHAR"), Column("st", "VARCHAR"), Column("daily", "BIGINT"),
           Column("lifetime", "BIGINT"))


def table(*rows, columns=COLUMNS):
    return RawTable(columns=columns, rows=tuple(rows))


def test_good_rows_become_desired_objects_with_string_ids():
    state = parse_rows("m", SPEC, table(("120000000000000001", " paused ", None, None),
                                       (120000000000000002, None, 5000, None)))
    assert [(o.object_id, o.status, o.daily_budget) for o in state.objects] == [
        ("120000000000000001", "PAUSED", None), ("120000000000000002", None, Decimal(5000))]
    assert state.issues == ()


def test_id_only_rows_are_skipped_and_counted():
    state = parse_rows("m", SPEC, table(("1", None, None, None), ("2", "", None, None)))
    assert state.skipped == ("1", "2") and state.objects == ()


@pytest.mark.parametrize("bad_id, fragment", [
    (1.2024733252791042e17, "floating-point"),
    ("1.2024733252791042e+17", "scientific notation"),
    (Decimal("1.2E+17"), "scientific notation"),
    ("12ab", "not numeric"),
    ("", "empty"),
    (None, "empty"),
    (Decimal("12.5"), "not a whole"),
])
def test_bad_ids_are_refused_with_a_reason(bad_id, fragment):
    state = parse_rows("m", SPEC, table((bad_id, "PAUSED", None, None), ("7", "ACTIVE", None, None)))
    assert [o.object_id for o in state.objects] == ["7"]
    (issue,) = state.issues
    assert fragment in issue.message and issue.column == "object_id" and issue.model == "m"


def test_a_double_id_column_refuses_the_whole_model():
    columns = (Column("object_id", "DOUBLE"), *COLUMNS[1:])
    state = parse_rows("m", SPEC, table((Decimal("120000000000000001"), "PAUSED", None, None), columns=columns))
    assert state.objects == () and "BIGINT, NUMERIC(38,0) or VARCHAR" in state.issues[0].message


def test_duplicate_ids_refuse_every_copy_and_keep_the_others():
    state = parse_rows("m", SPEC, table(("5", "PAUSED", None, None), ("5", "ACTIVE", None, None),
                                        ("6", "PAUSED", None, None)))
    assert [o.object_id for o in state.objects] == ["6"]
    assert [i.object_id for i in state.issues] == ["5", "5"]
    assert "2 rows" in state.issues[0].message


@pytest.mark.parametrize("status", ["enabled", "DELETED", "archived", 1])
def test_status_outside_active_paused_is_refused(status):
    state = parse_rows("m", SPEC, table(("5", status, None, None)))
    assert state.objects == () and state.issues[0].column == "st"


@pytest.mark.parametrize("budget, fragment", [
    (-100, "positive"), (0, "positive"), (Decimal("50.5"), "whole number of minor units"),
    (2**63, "larger than Meta accepts"), ("abc", "not a number"),
])
def test_bad_budgets_are_refused(budget, fragment):
    state = parse_rows("m", SPEC, table(("5", "PAUSED", budget, None)))
    assert state.objects == ()
    (issue,) = state.issues
    assert fragment in issue.message and issue.column == "daily" and issue.object_id == "5"


def test_daily_and_lifetime_in_one_row_is_refused():
    state = parse_rows("m", SPEC, table(("5", None, 100, 1000)))
    assert state.objects == () and "one budget type" in state.issues[0].message


def test_amounts_in_account_currency_may_have_decimals_until_the_currency_is_known():
    columns = (Column("object_id", "VARCHAR"), Column("daily", "DECIMAL(18,2)"))
    state = parse_rows("m", CURRENCY_SPEC, table(("5", Decimal("50.25")), columns=columns))
    assert state.objects[0].daily_budget == Decimal("50.25")


def test_a_mapped_column_the_model_lacks_is_a_config_error():
    spec = parse_spec({"account_id": "act_1", "columns": {"id": "object_id", "status": "nope"}}, "model m")
    with pytest.raises(ConfigError, match="column 'nope'"):
        parse_rows("m", spec, table(("5", "PAUSED", None, None)))


def test_column_names_match_case_insensitively():
    columns = (Column("OBJECT_ID", "VARCHAR"), Column("ST", "VARCHAR"), *COLUMNS[2:])
    state = parse_rows("m", SPEC, table(("5", "PAUSED", None, None), columns=columns))
    assert state.objects[0].status == "PAUSED"


def test_big_ids_stay_exact():
    assert normalize_id(Decimal("120247332527910413")) == "120247332527910413"
    assert normalize_id(2**63 + 1) == str(2**63 + 1)
