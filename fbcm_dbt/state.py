"""What is live on Meta, as plain data: the planner's view of accounts and ad objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

CAMPAIGN, ADSET, AD = "campaign", "adset", "ad"


@dataclass(frozen=True)
class AccountInfo:
    account_id: str  # act_<digits>
    currency: str
    min_daily_budget: int | None = None
    account_status: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class LiveObject:
    """One campaign, ad set or ad as Meta reports it. Budgets are minor units; None = no budget here."""

    object_id: str
    kind: str
    account_id: str  # act_<digits>
    name: str | None = None
    status: str | None = None
    effective_status: str | None = None
    daily_budget: int | None = None
    lifetime_budget: int | None = None
    budget_remaining: int | None = None
    end_time: str | None = None
    campaign_id: str | None = None
    adset_id: str | None = None

    @property
    def holds_budget(self) -> bool:
        return bool(self.daily_budget) or bool(self.lifetime_budget)

    def value(self, field_name: str) -> str | int | None:
        return getattr(self, field_name)


@dataclass(frozen=True)
class LiveState:
    """Live objects by id (the desired ones and their parents), accounts by id, and ids Meta refused to show."""

    accounts: Mapping[str, AccountInfo] = field(default_factory=dict)
    objects: Mapping[str, LiveObject] = field(default_factory=dict)
    unreadable: Mapping[str, str] = field(default_factory=dict)
