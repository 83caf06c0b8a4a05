"""The `fbcm` meta block of a model or exposure: parsed, validated, every unknown key named.

dbt copies `meta` into manifest.json without checking it, so this is where a typo in a key or a
malformed account id is caught — before any call to the warehouse or to Meta.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from fbcm_dbt.errors import ConfigError

META_KEY = "fbcm"
SYNCABLE_FIELDS = ("status", "daily_budget", "lifetime_budget")
BUDGET_FIELDS = ("daily_budget", "lifetime_budget")
_ACCOUNT_ID = re.compile(r"^act_[0-9]{1,20}$")


@dataclass(frozen=True)
class Guardrails:
    """Limits that stop a change which is legal for Meta but looks like a broken model.

    `None` switches a guardrail off. `max_budget` is in the same unit as the model's budget
    columns (account currency or minor units, as `budgets_in_account_currency` says).
    """

    max_budget_increase_pct: Decimal | None = Decimal(50)
    max_budget: Decimal | None = None
    max_activations: int | None = 20
    max_changed_fraction: Decimal | None = Decimal("0.5")
    max_paused_fraction: Decimal | None = Decimal("0.5")

    def merged(self, overrides: Mapping[str, Any]) -> "Guardrails":
        """These guardrails with the given keys replaced (values already validated)."""
        return replace(self, **dict(overrides))


@dataclass(frozen=True)
class SyncSpec:
    """How one dbt model maps to Meta: the parsed `fbcm` block."""

    account_id: str
    columns: Mapping[str, str]
    budgets_in_account_currency: bool = False
    currency: str | None = None
    continue_on_error: bool = False
    log_payload: bool = False
    guardrails: Guardrails = field(default_factory=Guardrails)

    @property
    def id_column(self) -> str:
        return self.columns["id"]

    @property
    def value_fields(self) -> tuple[str, ...]:
        return tuple(f for f in SYNCABLE_FIELDS if f in self.columns)


_TOP_KEYS = {
    "account_id", "columns", "budgets_in_account_currency", "currency", "continue_on_error",
    "log_payload", "guardrails",
}
_EXPOSURE_KEYS = _TOP_KEYS | {"model"}
_COLUMN_KEYS = {"id", *SYNCABLE_FIELDS}


def parse_spec(raw: Any, owner: str, *, allow_model_key: bool = False) -> SyncSpec:
    """Validate the `fbcm` block of `owner` (a model or exposure name) into a SyncSpec."""
    where = f"{owner}: meta.{META_KEY}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {type(raw).__name__}")
    allowed = _EXPOSURE_KEYS if allow_model_key else _TOP_KEYS
    _refuse_unknown(raw, allowed, where)
    account_id = raw.get("account_id")
    if not isinstance(account_id, str) or not _ACCOUNT_ID.match(account_id.strip()):
        raise ConfigError(
            f"{where}.account_id must be an ad account id like 'act_1234567890' (quoted), got {account_id!r}"
        )
    currency = raw.get("currency")
    if currency is not None and (not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency)):
        raise ConfigError(f"{where}.currency must be a 3-letter currency code like 'BRL', got {currency!r}")
    return SyncSpec(
        account_id=account_id.strip(),
        columns=_parse_columns(raw.get("columns"), where),
        budgets_in_account_currency=_flag(raw, "budgets_in_account_currency", where),
        currency=currency.upper() if currency else None,
        continue_on_error=_flag(raw, "continue_on_error", where),
        log_payload=_flag(raw, "log_payload", where),
        guardrails=Guardrails().merged(parse_guardrails(raw.get("guardrails") or {}, f"{where}.guardrails")),
    )


def parse_guardrails(raw: Any, where: str) -> dict[str, Any]:
    """Validated guardrail overrides (from a meta block or the command line)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {type(raw).__name__}")
    known = set(Guardrails.__dataclass_fields__)
    _refuse_unknown(raw, known, where)
    parsed: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None or (isinstance(value, str) and value.strip().lower() in {"none", "off"}):
            parsed[key] = None
        elif key == "max_activations":
            parsed[key] = _non_negative_int(value, f"{where}.{key}")
        else:
            number = _non_negative_decimal(value, f"{where}.{key}")
            if key.endswith("_fraction") and number > 1:
                raise ConfigError(f"{where}.{key} is a fraction between 0 and 1, got {value!r}")
            parsed[key] = number
    return parsed


def _parse_columns(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"{where}.columns must map Meta fields to columns, e.g. {{id: campaign_id, status: desired_status}}")
    _refuse_unknown(raw, _COLUMN_KEYS, f"{where}.columns")
    if "id" not in raw:
        raise ConfigError(f"{where}.columns has no 'id' mapping: name the column that holds the Meta object id")
    columns: dict[str, str] = {}
    for key, column in raw.items():
        if not isinstance(column, str) or not column.strip():
            raise ConfigError(f"{where}.columns.{key} must be a column name, got {column!r}")
        columns[key] = column.strip()
    if len(columns) == 1:
        raise ConfigError(f"{where}.columns maps only 'id': map at least one of {', '.join(SYNCABLE_FIELDS)}")
    return columns


def _refuse_unknown(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise ConfigError(f"{where} has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _flag(raw: Mapping[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key} must be true or false, got {value!r}")
    return value


def _non_negative_decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where} must be a number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ConfigError(f"{where} must be a non-negative number, got {value!r}")
    return number


def _non_negative_int(value: Any, where: str) -> int:
    number = _non_negative_decimal(value, where)
    if number != number.to_integral_value():
        raise ConfigError(f"{where} must be a whole number, got {value!r}")
    return int(number)
