"""The emulated ad objects: loading, dumping, lookup, effective status, reads.

Objects are kept as plain dicts in the *state-file format* (the YAML the user
writes), keyed by id, so that dumping and patching need no translation. Only
what Meta derives (effective_status, account_id of children, budget_remaining,
string-typed money) is computed at read time.

State file (see README.md for every key)::

    accounts:  [{id: act_1001, currency: BRL, min_daily_budget: 500, timezone_name: America/Sao_Paulo}]
    tokens:    [{token: test-token, accounts: [act_1001]}]
    app:       {secret: s3cret, require_appsecret_proof: true}        # optional
    campaigns: [{id: "1200...1", account_id: act_1001, name: Brand, status: ACTIVE, daily_budget: 5000}]
    adsets:    [{id: "...", campaign_id: "...", status: PAUSED, daily_budget: 3000, end_time: null, amount_spent: 0}]
    ads:       [{id: "...", adset_id: "...", status: ACTIVE}]
    rate_limits: {preset: full, time_scale: 100}                      # optional
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from . import errors
from .timeutil import format_time, parse_time, utc_offset_hours

KINDS = ("account", "campaign", "adset", "ad")
COLLECTIONS = {"account": "accounts", "campaign": "campaigns", "adset": "adsets", "ad": "ads"}
# Meta's internal node type names, as used in "nonexisting field" errors.
NODE_TYPES = {"account": "AdAccount", "campaign": "AdCampaignGroup", "adset": "AdCampaign", "ad": "Adgroup"}
# metadata=1 "type" strings (UNCONFIRMED: Meta's exact strings are not documented).
METADATA_TYPES = {"account": "adaccount", "campaign": "adcampaign_group", "adset": "adcampaign", "ad": "adgroup"}

STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DELETED")
# Objects hidden from edges unless the caller filters on effective_status.
HIDDEN_ON_EDGES = frozenset({"DELETED", "ARCHIVED"})
# Edges: owner kind -> edge name -> child kind
EDGES = {
    "account": {"campaigns": "campaign", "adsets": "adset", "ads": "ad"},
    "campaign": {"adsets": "adset", "ads": "ad"},
    "adset": {"ads": "ad"},
}

_KNOWN_TOP_KEYS = ("accounts", "tokens", "app", "campaigns", "adsets", "ads")


class StateError(ValueError):
    """The state file is malformed."""


def load_state(source: str | Path | dict) -> dict:
    """Read a state file (YAML path) and check its structure; dicts are checked too.

    Returns the parsed dict (the caller's dict is not modified).
    """
    if isinstance(source, dict):
        data = copy.deepcopy(source)
    else:
        text = Path(source).read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise StateError("the state file must be a mapping")
    Store(data, wall=0.0)  # validates; raises StateError
    return data


def account_key(value: object) -> str:
    """Normalise an account reference (1001, "1001", "act_1001") to "act_1001"."""
    text = str(value).strip()
    if not text.startswith("act_"):
        text = "act_" + text
    if not text[4:].isdigit():
        raise StateError(f"bad ad account id: {value!r}")
    return text


def _as_int(value: object, what: str, *, allow_none: bool = True) -> int | None:
    if value is None:
        if allow_none:
            return None
        raise StateError(f"{what}: a number is required")
    if isinstance(value, bool):
        raise StateError(f"{what}: not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise StateError(f"{what}: not an integer: {value!r}")


def _money(value: Any) -> str | None:
    """Meta returns money as numeric strings, and omits an unset budget."""
    if value is None or value == 0:
        return None
    return str(int(value))


class Store:
    """All ad objects, tokens and app settings of one emulator instance.

    Not thread-safe by itself: the Graph layer holds one lock around every use.
    """

    def __init__(self, state: dict, wall: float) -> None:
        self.objects: dict[str, dict] = {}
        self.kinds: dict[str, str] = {}
        self.order: dict[str, list[str]] = {k: [] for k in KINDS}
        self.tokens: dict[str, dict] = {}
        self._token_entries: list[dict] = []
        self.app: dict | None = None
        self.extra: dict[str, Any] = {}
        self._load(state, wall)
        self.reindex()

    # ------------------------------------------------------------------ load
    def _load(self, state: dict, wall: float) -> None:
        for key, value in state.items():
            if key not in _KNOWN_TOP_KEYS:
                self.extra[key] = copy.deepcopy(value)
        for key in ("accounts", "tokens", "campaigns", "adsets", "ads"):
            value = state.get(key) or []
            if not isinstance(value, list):
                raise StateError(f"'{key}' must be a list")
        app = state.get("app")
        if app is not None:
            if not isinstance(app, dict):
                raise StateError("'app' must be a mapping")
            self.app = copy.deepcopy(app)
            if self.app.get("require_appsecret_proof") and not self.app.get("secret"):
                raise StateError("app.require_appsecret_proof needs app.secret")

        for raw in state.get("accounts") or []:
            obj = self._copy_entry(raw, "account")
            obj["id"] = account_key(obj.get("id"))
            obj.setdefault("currency", "USD")
            obj["min_daily_budget"] = _as_int(obj.get("min_daily_budget", 100), "min_daily_budget", allow_none=False)
            obj.setdefault("timezone_name", "UTC")
            self._add(obj, "account")
        for raw in state.get("tokens") or []:
            if not isinstance(raw, dict) or not raw.get("token"):
                raise StateError("each token needs a 'token' string")
            entry = copy.deepcopy(raw)
            entry["token"] = str(entry["token"])
            entry["accounts"] = [account_key(a) for a in entry.get("accounts") or []]
            for acc in entry["accounts"]:
                if acc not in self.objects:
                    raise StateError(f"token refers to unknown account {acc}")
            self._token_entries.append(entry)
            self.tokens[entry["token"]] = entry

        for raw in state.get("campaigns") or []:
            obj = self._copy_entry(raw, "campaign")
            obj["account_id"] = account_key(obj.get("account_id"))
            if obj["account_id"] not in self.objects:
                raise StateError(f"campaign {obj['id']}: unknown account {obj['account_id']}")
            self._normalise_ad_object(obj, "campaign", wall)
            self._add(obj, "campaign")
        for raw in state.get("adsets") or []:
            obj = self._copy_entry(raw, "adset")
            obj["campaign_id"] = str(obj.get("campaign_id"))
            if self.kinds.get(obj["campaign_id"]) != "campaign":
                raise StateError(f"ad set {obj['id']}: unknown campaign {obj['campaign_id']}")
            obj.setdefault("end_time", None)
            self._normalise_ad_object(obj, "adset", wall)
            self._add(obj, "adset")
        for raw in state.get("ads") or []:
            obj = self._copy_entry(raw, "ad")
            obj["adset_id"] = str(obj.get("adset_id"))
            if self.kinds.get(obj["adset_id"]) != "adset":
                raise StateError(f"ad {obj['id']}: unknown ad set {obj['adset_id']}")
            self._normalise_ad_object(obj, "ad", wall)
            self._add(obj, "ad")

    @staticmethod
    def _copy_entry(raw: object, kind: str) -> dict:
        if not isinstance(raw, dict) or raw.get("id") in (None, ""):
            raise StateError(f"each {kind} needs an 'id'")
        obj = copy.deepcopy(raw)
        obj["id"] = str(obj["id"])
        return obj

    def _add(self, obj: dict, kind: str) -> None:
        oid = obj["id"]
        if oid in self.objects:
            raise StateError(f"duplicate id {oid}")
        self.objects[oid] = obj
        self.kinds[oid] = kind
        self.order[kind].append(oid)

    def _normalise_ad_object(self, obj: dict, kind: str, wall: float) -> None:
        status = str(obj.get("status", "ACTIVE")).upper()
        if status not in STATUSES:
            raise StateError(f"{kind} {obj['id']}: bad status {status}")
        obj["status"] = status
        if kind != "ad":
            for key in ("daily_budget", "lifetime_budget"):
                obj[key] = _as_int(obj.get(key), f"{kind} {obj['id']} {key}")
            obj["amount_spent"] = _as_int(obj.get("amount_spent", 0), f"{kind} {obj['id']} amount_spent") or 0
        for key in ("spend_cap", "bid_amount"):
            if key in obj:
                obj[key] = _as_int(obj[key], f"{kind} {obj['id']} {key}")
        tz = self.account_of_obj(obj, kind)["timezone_name"]
        for key in ("created_time", "updated_time", "start_time", "stop_time", "end_time"):
            if key in obj:
                obj[key] = self._norm_time(obj[key], tz, f"{kind} {obj['id']} {key}")
        now_text = format_time(wall, tz)
        obj.setdefault("created_time", now_text)
        obj.setdefault("updated_time", obj["created_time"])
        if kind == "adset":
            obj.setdefault("start_time", obj["created_time"])

    @staticmethod
    def _norm_time(value: object, tz: str, what: str) -> str | None:
        try:
            epoch = parse_time(value, tz)
        except ValueError as exc:
            raise StateError(f"{what}: {exc}") from None
        return None if epoch is None else format_time(epoch, tz)

    # --------------------------------------------------------------- indexes
    def reindex(self) -> None:
        """Rebuild parent->children lists (state order) and list positions."""
        self.position = {oid: i for kind in KINDS for i, oid in enumerate(self.order[kind])}
        self._children_sets: dict[tuple[str, str], frozenset[str]] = {}
        kids: dict[tuple[str, str], list[str]] = {}
        for cid in self.order["campaign"]:
            kids.setdefault((self.objects[cid]["account_id"], "campaigns"), []).append(cid)
        for sid in self.order["adset"]:
            camp = self.objects[sid]["campaign_id"]
            kids.setdefault((camp, "adsets"), []).append(sid)
            kids.setdefault((self.objects[camp]["account_id"], "adsets"), []).append(sid)
        for aid in self.order["ad"]:
            sid = self.objects[aid]["adset_id"]
            camp = self.objects[sid]["campaign_id"]
            kids.setdefault((sid, "ads"), []).append(aid)
            kids.setdefault((camp, "ads"), []).append(aid)
            kids.setdefault((self.objects[camp]["account_id"], "ads"), []).append(aid)
        self._children = kids

    def children(self, owner_id: str, edge: str) -> list[str]:
        return self._children.get((owner_id, edge), [])

    def children_set(self, owner_id: str, edge: str) -> frozenset[str]:
        """The same children as a set; edges never change after loading, so it is built once."""
        key = (owner_id, edge)
        cached = self._children_sets.get(key)
        if cached is None:
            cached = self._children_sets[key] = frozenset(self.children(owner_id, edge))
        return cached

    # ---------------------------------------------------------------- lookup
    def kind(self, oid: str) -> str | None:
        return self.kinds.get(oid)

    def account_of_obj(self, obj: dict, kind: str) -> dict:
        if kind == "account":
            return obj
        if kind == "campaign":
            return self.objects[obj["account_id"]]
        if kind == "adset":
            return self.objects[self.objects[obj["campaign_id"]]["account_id"]]
        return self.account_of_obj(self.objects[obj["adset_id"]], "adset")

    def account_id_of(self, oid: str) -> str:
        """The "act_N" id of the account that owns an object."""
        return self.account_of_obj(self.objects[oid], self.kinds[oid])["id"]

    def campaign_of(self, oid: str) -> dict | None:
        kind = self.kinds[oid]
        obj = self.objects[oid]
        if kind == "campaign":
            return obj
        if kind == "adset":
            return self.objects[obj["campaign_id"]]
        if kind == "ad":
            return self.objects[self.objects[obj["adset_id"]]["campaign_id"]]
        return None

    def effective_status(self, oid: str) -> str:
        """Meta's effective_status: the own status, overridden by the parents'.

        DELETED anywhere up the chain wins, then ARCHIVED; an object that is
        itself PAUSED shows PAUSED; an ACTIVE child of a paused campaign shows
        CAMPAIGN_PAUSED, of a paused ad set ADSET_PAUSED.
        """
        kind = self.kinds[oid]
        obj = self.objects[oid]
        own = obj["status"]
        if kind == "campaign":
            return own
        if kind == "adset":
            chain = (self.objects[obj["campaign_id"]], None)
        else:
            adset = self.objects[obj["adset_id"]]
            chain = (self.objects[adset["campaign_id"]], adset)
        campaign, adset = chain
        statuses = (own, campaign["status"], adset["status"] if adset else None)
        if "DELETED" in statuses:
            return "DELETED"
        if "ARCHIVED" in statuses:
            return "ARCHIVED"
        if own != "ACTIVE":
            return own
        if campaign["status"] == "PAUSED":
            return "CAMPAIGN_PAUSED"
        if adset is not None and adset["status"] == "PAUSED":
            return "ADSET_PAUSED"
        return own

    def token(self, token: str) -> dict | None:
        return self.tokens.get(token)

    # ----------------------------------------------------------------- reads
    def check_fields(self, kind: str, names: list[str]) -> None:
        """Raise Meta's nonexisting-field error for the first unknown field."""
        table = _FIELDS[kind]
        for name in names:
            if name not in table:
                raise errors.nonexisting_field(name, NODE_TYPES[kind])

    def render(self, oid: str, names: list[str], wall: float) -> dict:
        """The node as Graph returns it: id plus the asked fields that have a value."""
        kind = self.kinds[oid]
        table = _FIELDS[kind]
        self.check_fields(kind, names)
        obj = self.objects[oid]
        out: dict[str, Any] = {}
        for name in names:
            value = table[name][1](self, obj, oid)
            if value is not None:
                out[name] = value
        out["id"] = obj["id"]
        return out

    def metadata(self, kind: str) -> dict:
        """``metadata=1``: the node type and its readable fields (+ edges)."""
        meta: dict[str, Any] = {
            "type": METADATA_TYPES[kind],
            "fields": [{"name": name, "type": spec[0]} for name, spec in _FIELDS[kind].items()],
        }
        if kind in EDGES:
            meta["connections"] = sorted(EDGES[kind])
        return meta

    # ------------------------------------------------------- dump and patch
    def dump(self) -> dict:
        out: dict[str, Any] = {}
        out["accounts"] = [copy.deepcopy(self.objects[i]) for i in self.order["account"]]
        out["tokens"] = copy.deepcopy(self._token_entries)
        if self.app is not None:
            out["app"] = copy.deepcopy(self.app)
        out["campaigns"] = [copy.deepcopy(self.objects[i]) for i in self.order["campaign"]]
        out["adsets"] = [copy.deepcopy(self.objects[i]) for i in self.order["adset"]]
        out["ads"] = [copy.deepcopy(self.objects[i]) for i in self.order["ad"]]
        for key, value in self.extra.items():
            out[key] = copy.deepcopy(value)
        return out

    def get_copy(self, oid: str) -> dict:
        if oid not in self.objects:
            oid = self._maybe_account(oid)
        return copy.deepcopy(self.objects[oid])

    def _maybe_account(self, oid: str) -> str:
        try:
            key = account_key(oid)
        except StateError:
            raise KeyError(oid) from None
        if key not in self.objects:
            raise KeyError(oid)
        return key

    def patch(self, oid: str, fields: dict) -> dict:
        """Change stored fields directly (no Meta rules). Returns the new copy."""
        if oid not in self.objects:
            oid = self._maybe_account(oid)
        kind = self.kinds[oid]
        obj = self.objects[oid]
        if "id" in fields and str(fields["id"]) != oid:
            raise ValueError("an object's id cannot be changed")
        tz = self.account_of_obj(obj, kind)["timezone_name"]
        reindex = False
        for key, value in fields.items():
            if key == "id":
                continue
            if key in ("daily_budget", "lifetime_budget", "amount_spent", "spend_cap",
                       "bid_amount", "min_daily_budget"):
                value = _as_int(value, key)
            elif key in ("created_time", "updated_time", "start_time", "stop_time", "end_time"):
                value = self._norm_time(value, tz, key)
            elif key == "status" and isinstance(value, str):
                value = value.upper()
            elif key == "account_id" and kind == "campaign":
                value = account_key(value)
                if value not in self.objects:
                    raise ValueError(f"unknown account {value}")
                reindex = True
            elif key in ("campaign_id", "adset_id"):
                value = str(value)
                want = "campaign" if key == "campaign_id" else "adset"
                if self.kinds.get(value) != want:
                    raise ValueError(f"unknown {want} {value}")
                reindex = True
            obj[key] = value
        if reindex:
            self.reindex()
        return copy.deepcopy(obj)


# ---------------------------------------------------------------- field table
# name -> (metadata type, getter(store, obj, oid)). A getter returning None
# means "no value": Graph omits the field.

def _get(key: str) -> Callable[[Store, dict, str], Any]:
    return lambda store, obj, oid: obj.get(key)


def _money_field(key: str) -> Callable[[Store, dict, str], Any]:
    return lambda store, obj, oid: _money(obj.get(key))


def _digits_account(store: Store, obj: dict, oid: str) -> str:
    return store.account_id_of(oid)[4:]


def _budget_remaining(store: Store, obj: dict, oid: str) -> str:
    budget = obj.get("daily_budget") or obj.get("lifetime_budget") or 0
    if not budget:
        return "0"
    return str(max(0, int(budget) - int(obj.get("amount_spent") or 0)))


def _status(store: Store, obj: dict, oid: str) -> str:
    return obj["status"]


def _effective(store: Store, obj: dict, oid: str) -> str:
    return store.effective_status(oid)


def _adset_campaign(store: Store, obj: dict, oid: str) -> str:
    return store.objects[obj["adset_id"]]["campaign_id"]


def _tz_offset(store: Store, obj: dict, oid: str) -> float:
    return utc_offset_hours(obj.get("timezone_name"), time.time())


_COMMON = {
    "id": ("numeric string", lambda s, o, i: o["id"]),
    "account_id": ("numeric string", _digits_account),
    "name": ("string", _get("name")),
    "status": ("enum", _status),
    "configured_status": ("enum", _status),
    "effective_status": ("enum", _effective),
    "created_time": ("datetime", _get("created_time")),
    "updated_time": ("datetime", _get("updated_time")),
}

_FIELDS: dict[str, dict[str, tuple[str, Callable[[Store, dict, str], Any]]]] = {
    "campaign": {
        **_COMMON,
        "daily_budget": ("numeric string", _money_field("daily_budget")),
        "lifetime_budget": ("numeric string", _money_field("lifetime_budget")),
        "budget_remaining": ("numeric string", _budget_remaining),
        "objective": ("string", _get("objective")),
        "start_time": ("datetime", _get("start_time")),
        "stop_time": ("datetime", _get("stop_time")),
        "spend_cap": ("numeric string", _money_field("spend_cap")),
        "bid_strategy": ("enum", _get("bid_strategy")),
        "buying_type": ("string", _get("buying_type")),
    },
    "adset": {
        **_COMMON,
        "campaign_id": ("numeric string", _get("campaign_id")),
        "daily_budget": ("numeric string", _money_field("daily_budget")),
        "lifetime_budget": ("numeric string", _money_field("lifetime_budget")),
        "budget_remaining": ("numeric string", _budget_remaining),
        "end_time": ("datetime", _get("end_time")),
        "start_time": ("datetime", _get("start_time")),
        "bid_amount": ("unsigned int32", _get("bid_amount")),
        "bid_strategy": ("enum", _get("bid_strategy")),
        "billing_event": ("enum", _get("billing_event")),
        "optimization_goal": ("enum", _get("optimization_goal")),
    },
    "ad": {
        **_COMMON,
        "adset_id": ("numeric string", _get("adset_id")),
        "campaign_id": ("numeric string", _adset_campaign),
        "bid_amount": ("int32", _get("bid_amount")),
    },
    "account": {
        "id": ("string", lambda s, o, i: o["id"]),
        "account_id": ("numeric string", lambda s, o, i: o["id"][4:]),
        "name": ("string", _get("name")),
        "currency": ("string", _get("currency")),
        "min_daily_budget": ("unsigned int32", lambda s, o, i: int(o["min_daily_budget"])),
        "timezone_name": ("string", _get("timezone_name")),
        "timezone_offset_hours_utc": ("float", _tz_offset),
        "account_status": ("unsigned int32", lambda s, o, i: int(o.get("account_status", 1))),
        "disable_reason": ("unsigned int32", lambda s, o, i: int(o.get("disable_reason", 0))),
        "amount_spent": ("numeric string", lambda s, o, i: str(int(o.get("amount_spent") or 0))),
        "spend_cap": ("numeric string", lambda s, o, i: str(int(o.get("spend_cap") or 0))),
    },
}
