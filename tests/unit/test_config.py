from decimal import Decimal

import pytest

from fbcm_dbt.config import parse_spec
from fbcm_dbt.errors import ConfigError

BASE = {"account_id": "act_1001", "columns": {"id": "campaign_id", "status": "desired_status"}}


def test_a_valid_block_parses_with_safe_guardrail_defaults():
    spec = parse_spec(BASE, "model m")
    assert spec.account_id == "act_1001" and spec.id_column == "campaign_id"
    assert spec.guardrails.max_changed_fraction == Decimal("0.5") and spec.continue_on_error is False


@pytest.mark.parametrize("change, fragment", [
    ({"acount_id": "act_1"}, "unknown key(s) acount_id"),
    ({"account_id": "1001"}, "act_1234567890"),
    ({"account_id": 1001}, "act_1234567890"),
    ({"columns": {"status": "s"}}, "no 'id' mapping"),
    ({"columns": {"id": "x"}}, "maps only 'id'"),
    ({"columns": {"id": "x", "budget": "b"}}, "unknown key(s) budget"),
    ({"continue_on_error": "yes"}, "true or false"),
    ({"guardrails": {"max_changed_fraction": 2}}, "between 0 and 1"),
    ({"guardrails": {"max_activatons": 2}}, "unknown key(s) max_activatons"),
    ({"currency": "reais"}, "3-letter"),
])
def test_invalid_blocks_name_the_model_and_key(change, fragment):
    with pytest.raises(ConfigError) as error:
        parse_spec({**BASE, **change}, "model fb_desired")
    assert "model fb_desired" in str(error.value) and fragment in str(error.value)


def test_guardrails_can_be_switched_off():
    spec = parse_spec({**BASE, "guardrails": {"max_activations": None, "max_budget_increase_pct": "off"}}, "model m")
    assert spec.guardrails.max_activations is None and spec.guardrails.max_budget_increase_pct is None
