"""Rate limits: the ad-account score, blocks, the mutation cap, the budget-change
limit, and the usage headers that report them.

Score model (Meta's "Ads Management" ad-account score, MRATE):

* every call, and every operation inside a batch, that reaches an ad account
  costs points: 1 for a read (GET), 3 for a write (POST/DELETE, validate_only
  included); a listing page is one read;
* the score decays *linearly* at ``max_score / decay_seconds`` points per
  emulated second (so a full score drains in ``decay_seconds``);
* a call that would push the score over ``max_score`` is refused and blocks the
  account for ``block_seconds``; while blocked every call is refused, and (the
  default, ``extend_block=True``, because Meta says continuing calls extend the
  block) each refused call restarts the block;
* refused calls cost nothing.

All times are emulated seconds (see clock.py), so ``reset_time_duration`` and
``estimated_time_to_regain_access`` are true in emulated time.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .errors import GraphError

THROTTLE_ERRORS = ("17", "613", "80004")

_PRESETS: dict[str, dict[str, Any]] = {
    # Marketing API "Full" tier (formerly Advanced/standard_access).
    "full": dict(max_score=9000.0, decay_seconds=300.0, block_seconds=60.0,
                 mutations_per_second=100, access_tier="standard_access", enabled=True),
    # "Limited" tier (formerly development_access).
    "dev": dict(max_score=60.0, decay_seconds=300.0, block_seconds=300.0,
                mutations_per_second=100, access_tier="development_access", enabled=True),
    "off": dict(enabled=False),
}


@dataclass(frozen=True)
class RateLimits:
    """Rate-limit settings of one emulator. ``RateLimits()`` equals the "full" preset."""

    max_score: float = 9000.0
    decay_seconds: float = 300.0
    block_seconds: float = 60.0
    mutations_per_second: int | None = 100
    time_scale: float = 1.0          # emulated seconds per real second (whole clock)
    enabled: bool = True
    extend_block: bool = True        # calls during a block restart it (Meta's advice)
    throttle_error: str = "17"       # "17" (17/2446079), "613" (613/1487742), "80004" (80004/2446079)
    access_tier: str = "standard_access"

    def __post_init__(self) -> None:
        if self.throttle_error not in THROTTLE_ERRORS:
            raise ValueError(f"throttle_error must be one of {THROTTLE_ERRORS}")
        if self.time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        if self.enabled and (self.max_score <= 0 or self.decay_seconds <= 0 or self.block_seconds < 0):
            raise ValueError("max_score and decay_seconds must be > 0, block_seconds >= 0")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "RateLimits":
        """``full``, ``dev`` or ``off``, with field overrides on top."""
        if name not in _PRESETS:
            raise ValueError(f"unknown rate-limit preset {name!r} (full, dev, off)")
        return cls(**{**_PRESETS[name], **overrides})

    @classmethod
    def from_config(cls, config: "RateLimits | str | dict | None") -> "RateLimits":
        """From the state file's ``rate_limits:`` value (or a preset name).

        A mapping may name a ``preset`` (default ``full``) and override any field.
        None means "off".
        """
        if config is None:
            return cls.preset("off")
        if isinstance(config, RateLimits):
            return config
        if isinstance(config, str):
            return cls.preset(config)
        if not isinstance(config, dict):
            raise ValueError("rate_limits must be a preset name or a mapping")
        config = dict(config)
        name = config.pop("preset", "full")
        known = {f.name for f in fields(cls)}
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"unknown rate_limits keys: {sorted(unknown)}")
        return cls.preset(str(name), **config)

    def with_overrides(self, **overrides: Any) -> "RateLimits":
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def decay_per_second(self) -> float:
        return self.max_score / self.decay_seconds


@dataclass(frozen=True)
class BudgetChangeLimit:
    """Meta: an ad set's budget may change at most 4 times per hour (613/1487632).

    State key ``budget_change_limit:``. Applies even when rate limits are "off"
    (it is a rule of the object, not of the caller's quota).
    """

    max_changes: int = 4
    window_seconds: float = 3600.0
    block_seconds: float = 3600.0    # "blocks budget changes on that ad set for an hour"
    include_campaigns: bool = False  # UNCONFIRMED whether campaign budgets are limited
    enabled: bool = True

    @classmethod
    def from_config(cls, config: dict | None) -> "BudgetChangeLimit":
        if not config:
            return cls()
        known = {f.name for f in fields(cls)}
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"unknown budget_change_limit keys: {sorted(unknown)}")
        return cls(**config)


@dataclass
class _AccountScore:
    score: float = 0.0
    t: float = 0.0
    blocked_until: float = float("-inf")
    mutations: deque = field(default_factory=deque)


def score_throttle(kind: str) -> GraphError:
    if kind == "613":
        return GraphError(
            code=613, subcode=1487742, is_transient=True,
            message="(#613) Calls to this api have exceeded the rate limit.",
            user_title="Too Many Calls",
            user_msg="There have been too many calls from this ad-account. Please wait a bit and try again.",
            throttle_kind="score",
        )
    if kind == "80004":
        return GraphError(
            code=80004, subcode=2446079, is_transient=True,
            message=("(#80004) There have been too many calls to this ad-account. Wait a bit and try "
                     "again. For more info, please refer to "
                     "https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management."),
            user_title="Too Many Calls",
            user_msg="There have been too many calls from this ad-account. Please wait a bit and try again.",
            throttle_kind="score",
        )
    return GraphError(
        code=17, subcode=2446079, is_transient=True,
        message="(#17) User request limit reached",
        user_title="Ad Account Has Too Many API Calls",
        user_msg="There have been too many calls from this ad-account. Please wait a bit and try again.",
        throttle_kind="score",
    )


def mutation_throttle(cap: int) -> GraphError:
    return GraphError(
        code=613, subcode=5044001, is_transient=True,
        message="(#613) Calls to this api have exceeded the rate limit.",
        user_title="Too Many Changes",
        user_msg=f"You are making more than {cap} changes per second to this ad account. Slow down and try again.",
        throttle_kind="mutation",
    )


class Limiter:
    """Per-account score, block and mutation-rate bookkeeping. Not thread-safe
    by itself (the Graph layer's lock covers it)."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._accounts: dict[str, _AccountScore] = {}

    def configure(self, limits: RateLimits) -> None:
        self.limits = limits

    def reset(self) -> None:
        self._accounts.clear()

    def _state(self, account: str, now: float) -> _AccountScore:
        st = self._accounts.get(account)
        if st is None:
            st = self._accounts[account] = _AccountScore(t=now)
        elif now > st.t:
            st.score = max(0.0, st.score - self.limits.decay_per_second * (now - st.t))
            st.t = now
        return st

    def charge(self, account: str, cost: int, is_write: bool, now: float) -> GraphError | None:
        """Charge a call to an account, or return the throttle error (charging nothing)."""
        lim = self.limits
        if not lim.enabled:
            return None
        st = self._state(account, now)
        if st.blocked_until > now:
            if lim.extend_block:
                st.blocked_until = now + lim.block_seconds
            return score_throttle(lim.throttle_error)
        if is_write and lim.mutations_per_second:
            window_start = now - 1.0
            muts = st.mutations
            while muts and muts[0] <= window_start:
                muts.popleft()
            if len(muts) >= lim.mutations_per_second:
                return mutation_throttle(lim.mutations_per_second)
        if st.score + cost > lim.max_score:
            st.blocked_until = now + lim.block_seconds
            return score_throttle(lim.throttle_error)
        st.score += cost
        if is_write and lim.mutations_per_second:
            st.mutations.append(now)
        return None

    def usage(self, account: str, now: float) -> dict[str, Any]:
        """Utilisation of one account: pct of max score, seconds to reset, block left."""
        lim = self.limits
        if not lim.enabled:
            return {"pct": 0.0, "reset": 0, "regain_minutes": 0, "blocked": False}
        st = self._state(account, now)
        blocked_for = max(0.0, st.blocked_until - now)
        pct = st.score / lim.max_score * 100.0
        if blocked_for > 0:
            pct = max(pct, 100.0)
            reset = math.ceil(blocked_for)
        else:
            reset = math.ceil(st.score / lim.decay_per_second) if st.score > 0 else 0
        return {
            "pct": round(pct, 2),
            "reset": int(reset),
            "regain_minutes": int(math.ceil(blocked_for / 60.0)) if blocked_for > 0 else 0,
            "blocked": blocked_for > 0,
        }

    def headers(self, accounts: list[str], now: float) -> dict[str, str]:
        """X-Ad-Account-Usage, X-Business-Use-Case-Usage and X-App-Usage as Meta formats them.

        ``accounts`` are the ad accounts this response concerns ("act_N"). The
        ad-account header describes the most used of them; the BUC header has one
        entry per account; the app header reports the highest utilisation (the
        emulator has no separate app-level quota).
        """
        tier = self.limits.access_tier
        # Formatted by hand (same compact JSON as json.dumps): this runs for every
        # response and every batch operation.
        entries = []
        top = {"pct": 0.0, "reset": 0}
        for acc in accounts:
            u = self.usage(acc, now)
            if u["pct"] >= top["pct"]:
                top = u
            p = int(u["pct"])
            entries.append(
                f'"{acc[4:]}":[{{"type":"ads_management","call_count":{p},"total_cputime":{p},'
                f'"total_time":{p},"estimated_time_to_regain_access":{u["regain_minutes"]},'
                f'"ads_api_access_tier":"{tier}"}}]'
            )
        t = int(top["pct"])
        return {
            "x-ad-account-usage": (
                f'{{"acc_id_util_pct":{float(top["pct"])!r},"reset_time_duration":{int(top["reset"])},'
                f'"ads_api_access_tier":"{tier}"}}'
            ),
            "x-business-use-case-usage": "{" + ",".join(entries) + "}",
            "x-app-usage": f'{{"call_count":{t},"total_time":{t},"total_cputime":{t}}}',
        }


class BudgetChangeTracker:
    """Budget changes per object in a sliding window, and the resulting blocks."""

    def __init__(self, limit: BudgetChangeLimit) -> None:
        self.limit = limit
        self._history: dict[str, deque] = {}
        self._blocked: dict[str, float] = {}

    def reset(self) -> None:
        self._history.clear()
        self._blocked.clear()

    def applies_to(self, kind: str) -> bool:
        return self.limit.enabled and (kind == "adset" or (kind == "campaign" and self.limit.include_campaigns))

    def check(self, oid: str, now: float, *, record_block: bool = True) -> GraphError | None:
        """The error if one more budget change on ``oid`` is not allowed now."""
        lim = self.limit
        blocked_until = self._blocked.get(oid, float("-inf"))
        history = self._history.get(oid)
        if history:
            while history and history[0] <= now - lim.window_seconds:
                history.popleft()
        if blocked_until <= now and (not history or len(history) < lim.max_changes):
            return None
        if blocked_until <= now and record_block:
            blocked_until = now + lim.block_seconds
            self._blocked[oid] = blocked_until
        wait = max(blocked_until, now + 1) - now if blocked_until > now else lim.block_seconds
        return GraphError(
            code=613, subcode=1487632, is_transient=True,
            message="(#613) Calls to this api have exceeded the rate limit.",
            user_title="Too Many Budget Changes",
            user_msg=(f"This ad set's budget has been changed {lim.max_changes} times in the past "
                      f"hour. You can change it again in about {math.ceil(wait / 60)} minutes."),
            throttle_kind="budget",
        )

    def record(self, oid: str, now: float) -> None:
        self._history.setdefault(oid, deque()).append(now)
