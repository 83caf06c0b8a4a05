"""Live state for a set of desired ids, read at the lowest rate-limit cost we know.

Objects are found through their account's edges (`/act_N/campaigns|adsets|ads`) filtered by id:
one listing call returns up to LISTING_CHUNK objects for one point, where single-object GETs cost
one point each. Ids the edges do not return (another account, deleted, archived, unknown) are then
read one by one so the plan can say exactly why they are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from fbcm_dbt.meta.client import Call, GraphClient
from fbcm_dbt.state import AD, ADSET, CAMPAIGN, AccountInfo, LiveObject, LiveState

# ids per filtered listing (and page size): one read point answers for up to this many objects
LISTING_CHUNK = 100
ACCOUNT_FIELDS = "id,account_id,name,currency,min_daily_budget,account_status"
_COMMON = "id,account_id,name,status,effective_status"
EDGE_FIELDS = {
    CAMPAIGN: f"{_COMMON},daily_budget,lifetime_budget,budget_remaining",
    ADSET: f"{_COMMON},campaign_id,daily_budget,lifetime_budget,budget_remaining,end_time",
    AD: f"{_COMMON},campaign_id,adset_id",
}
EDGES = {CAMPAIGN: "campaigns", ADSET: "adsets", AD: "ads"}
# Fields every node type has, for ids the account's edges did not return.
FALLBACK_FIELDS = _COMMON


@dataclass(frozen=True)
class ReadRequest:
    account_id: str
    object_ids: frozenset[str]


def read_live_state(client: GraphClient, requests: Sequence[ReadRequest]) -> LiveState:
    accounts = _read_accounts(client, sorted({r.account_id for r in requests}))
    objects: dict[str, LiveObject] = {}
    for account_id in sorted({r.account_id for r in requests}):
        wanted = set().union(*(r.object_ids for r in requests if r.account_id == account_id))
        objects.update(_list_by_id(client, account_id, wanted, (CAMPAIGN, ADSET, AD)))
    missing = sorted(set().union(*(r.object_ids for r in requests)) - objects.keys())
    found, unreadable = _read_one_by_one(client, missing)
    objects.update(found)
    _add_parents(client, objects)
    return LiveState(accounts=accounts, objects=objects, unreadable=unreadable)


def _read_accounts(client: GraphClient, account_ids: list[str]) -> dict[str, AccountInfo]:
    results = client.execute([Call("GET", a, {"fields": ACCOUNT_FIELDS}) for a in account_ids])
    accounts: dict[str, AccountInfo] = {}
    for account_id, result in zip(account_ids, results):
        if result.ok and isinstance(result.body, Mapping) and result.body.get("currency"):
            body = result.body
            accounts[account_id] = AccountInfo(
                account_id=account_id,
                currency=str(body["currency"]),
                min_daily_budget=_money(body.get("min_daily_budget")),
                account_status=_int(body.get("account_status")),
                name=body.get("name"),
            )
    return accounts


def _list_by_id(client: GraphClient, account_id: str, wanted: set[str], kinds: Sequence[str]) -> dict[str, LiveObject]:
    """Find each id on the account's edges, asking the edge that holds most of them first.

    A model usually holds one kind of object, so one listing per chunk on the right edge is all
    it takes; a probe of the first chunk against every edge tells which edge that is.
    """
    remaining = sorted(wanted, key=lambda i: (len(i), i))
    found: dict[str, LiveObject] = {}
    order = list(kinds)
    if len(order) > 1 and len(remaining) > LISTING_CHUNK:
        probe = remaining[:LISTING_CHUNK]
        hits = {kind: 0 for kind in order}
        for obj in _list(client, account_id, [(kind, probe) for kind in order]):
            if obj.object_id in wanted and obj.object_id not in found:
                found[obj.object_id] = obj
                hits[obj.kind] += 1
        order.sort(key=lambda kind: -hits[kind])
        remaining = remaining[LISTING_CHUNK:]
    for kind in order:
        if not remaining:
            break
        chunks = [remaining[i:i + LISTING_CHUNK] for i in range(0, len(remaining), LISTING_CHUNK)]
        for obj in _list(client, account_id, [(kind, chunk) for chunk in chunks]):
            if obj.object_id in wanted:
                found.setdefault(obj.object_id, obj)
        remaining = [i for i in remaining if i not in found]
    return found


def _list(client: GraphClient, account_id: str, queries: Sequence[tuple[str, list[str]]]) -> list[LiveObject]:
    """One filtered listing per (edge, ids) query, all sent together, following pages to the end."""
    calls = [
        (kind, Call("GET", f"{account_id}/{EDGES[kind]}", {
            "fields": EDGE_FIELDS[kind],
            "limit": LISTING_CHUNK,
            "filtering": [{"field": "id", "operator": "IN", "value": ids}],
        }))
        for kind, ids in queries
    ]
    objects: list[LiveObject] = []
    while calls:
        next_calls: list[tuple[str, Call]] = []
        for (kind, call), result in zip(calls, client.execute([c for _, c in calls])):
            if not result.ok or not isinstance(result.body, Mapping):
                continue  # the ids stay unaccounted for and are read one by one, which names the error
            objects += [_live_object(row, kind) for row in result.body.get("data") or []]
            paging = result.body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if after and paging.get("next"):
                next_calls.append((kind, Call("GET", call.path, {**call.params, "after": after})))
        calls = next_calls
    return objects


def _read_one_by_one(client: GraphClient, ids: list[str]) -> tuple[dict[str, LiveObject], dict[str, str]]:
    found: dict[str, LiveObject] = {}
    unreadable: dict[str, str] = {}
    results = client.execute([Call("GET", object_id, {"fields": FALLBACK_FIELDS}) for object_id in ids])
    for object_id, result in zip(ids, results):
        if result.ok and isinstance(result.body, Mapping):
            found[object_id] = _live_object(result.body, "unknown")
        else:
            unreadable[object_id] = result.error.describe() if result.error else "no answer"
    return found, unreadable


def _add_parents(client: GraphClient, objects: dict[str, LiveObject]) -> None:
    """Parent campaigns and ad sets: where the budget lives, and whether a parent is paused."""
    by_account: dict[str, dict[str, set[str]]] = {}
    for obj in list(objects.values()):
        for kind, parent_id in ((CAMPAIGN, obj.campaign_id), (ADSET, obj.adset_id)):
            if parent_id and parent_id not in objects:
                by_account.setdefault(obj.account_id, {}).setdefault(kind, set()).add(parent_id)
    for account_id, kinds in sorted(by_account.items()):
        for kind in (ADSET, CAMPAIGN):  # ad sets first: they name campaigns that may be missing too
            ids = kinds.get(kind, set()) - objects.keys()
            if kind == CAMPAIGN:
                ids |= {o.campaign_id for o in objects.values()
                        if o.account_id == account_id and o.campaign_id and o.campaign_id not in objects}
            if ids:
                objects.update(_list_by_id(client, account_id, ids, (kind,)))


def _live_object(row: Mapping[str, Any], kind: str) -> LiveObject:
    account = str(row.get("account_id") or "")
    return LiveObject(
        object_id=str(row["id"]),
        kind=kind,
        account_id=account if account.startswith("act_") else f"act_{account}",
        name=row.get("name"),
        status=row.get("status"),
        effective_status=row.get("effective_status"),
        daily_budget=_money(row.get("daily_budget")),
        lifetime_budget=_money(row.get("lifetime_budget")),
        budget_remaining=_int(row.get("budget_remaining")),
        end_time=row.get("end_time") or None,
        campaign_id=_str(row.get("campaign_id")),
        adset_id=_str(row.get("adset_id")),
    )


def _money(value: Any) -> int | None:
    """Budgets arrive as numeric strings; absent, null and "0" all mean no budget at this level."""
    number = _int(value)
    return number if number else None


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
