"""Graph API semantics of one operation: version, auth, routing, reads, writes.

An :class:`Operation` is one call as Meta sees it: a top-level HTTP request or
one entry of a batch. :meth:`Graph.execute` answers it with an
:class:`OpResult` (HTTP status + JSON body + the account it concerned), doing
every check in Meta's order:

1. version (2635 for retired versions or unversioned paths);
2. access token (104 missing, 190/467 unknown, 190/463 expired);
3. appsecret_proof when the app requires it or one is given (code 100);
4. the object: unknown, or in an account the token cannot reach (100/33);
5. the ad-account score / block / mutation cap (limits.py) - points are charged here;
6. fields (100 nonexisting field) or update rules (rules.py) and the
   budget-change limit; then the write is applied atomically.

The Graph object owns the single lock that protects store and limits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from . import errors, rules
from .clock import Clock
from .errors import GraphError
from .faults import FaultInjector
from .limits import BudgetChangeTracker, Limiter
from .observability import Metrics
from .store import EDGES, HIDDEN_ON_EDGES, NODE_TYPES, Store
from .timeutil import format_time

VERSION_RE = re.compile(r"^v(\d+)\.(\d+)$")
DEFAULT_VERSIONS = ("v25.0", "v26.0", "v27.0")
DEFAULT_PAGE_LIMIT = 25
MAX_PAGE_LIMIT = 500
# Never echoed into paging URLs or logs.
SECRET_PARAMS = frozenset({"access_token", "appsecret_proof"})


def _vkey(version: str) -> tuple[int, int]:
    m = VERSION_RE.match(version)
    assert m, version
    return int(m.group(1)), int(m.group(2))


class Versions:
    """The API versions this emulator serves."""

    def __init__(self, served: tuple[str, ...] | list[str] | None = None) -> None:
        served = tuple(served or DEFAULT_VERSIONS)
        for v in served:
            if not VERSION_RE.match(v):
                raise ValueError(f"bad API version {v!r} (expected like v26.0)")
        self.served = tuple(sorted(set(served), key=_vkey))
        self.latest = self.served[-1]

    def check(self, version: str) -> GraphError | None:
        if version in self.served:
            return None
        if _vkey(version) < _vkey(self.served[0]):
            return errors.deprecated_version(self.latest)
        if _vkey(version) > _vkey(self.latest):
            return errors.unknown_version(version)
        return errors.deprecated_version(self.latest)  # a gap between served versions


def split_version(path: str) -> tuple[str | None, str]:
    """"/v26.0/123/" -> ("v26.0", "123"); "/123" -> (None, "123"); "/" -> (None, "")."""
    path = path.strip("/")
    head, _, rest = path.partition("/")
    if VERSION_RE.match(head):
        return head, rest.strip("/")
    return None, path


@dataclass
class Operation:
    method: str                       # GET, POST or DELETE
    version: str | None               # "v26.0", or None for an unversioned path
    path: str                         # after the version, no surrounding slashes
    params: dict[str, str]
    token: str | None
    proof_checked: bool = False       # appsecret_proof already verified (batch top level)
    base_url: str = ""                # http://host:port, for paging links


@dataclass
class OpResult:
    status: int
    body: Any
    account: str | None = None        # account the operation concerned (for usage headers)
    points: int = 0
    error: GraphError | None = None
    applied: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Ctx:
    account: str | None = None
    fallback_account: str | None = None
    points: int = 0


def appsecret_proof(secret: str, token: str) -> str:
    return hmac.new(secret.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()


def _encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"pos:{position}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        if not text.startswith("pos:"):
            raise ValueError
        return int(text[4:])
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_param("The after cursor is invalid", blame="after") from None


class Graph:
    """The emulated Graph API over one store. Thread-safe (one lock)."""

    def __init__(
        self,
        store: Store,
        limiter: Limiter,
        budget_tracker: BudgetChangeTracker,
        injector: FaultInjector,
        metrics: Metrics,
        clock: Clock,
        versions: Versions,
    ) -> None:
        self.store = store
        self.limiter = limiter
        self.budget_tracker = budget_tracker
        self.injector = injector
        self.metrics = metrics
        self.clock = clock
        self.versions = versions
        self.lock = threading.RLock()

    # ------------------------------------------------------------ public
    def execute(self, op: Operation, *, with_headers: bool = True) -> tuple[OpResult, dict[str, str]]:
        """Run one operation; returns the result and its usage headers."""
        with self.lock:
            result = self._execute(op)
            usage = {}
            if with_headers:
                acc = result.account
                usage = self.limiter.headers([acc] if acc else [], self.clock.now())
            return result, usage

    def usage_headers(self, accounts: list[str]) -> dict[str, str]:
        with self.lock:
            return self.limiter.headers(accounts, self.clock.now())

    def authenticate(self, token: str | None, params: dict[str, str]) -> dict:
        """Check a token and appsecret_proof; return the token entry or raise."""
        if not token:
            raise errors.missing_token()
        entry = self.store.token(token)
        if entry is None:
            raise errors.invalid_token()
        if entry.get("expired"):
            raise errors.expired_token(str(entry.get("expired_at") or "Monday, 01-Jan-24 00:00:00 PST"))
        app = self.store.app
        if app and app.get("secret"):
            proof = params.get("appsecret_proof")
            if proof is None:
                if app.get("require_appsecret_proof"):
                    raise errors.missing_appsecret_proof()
            elif not hmac.compare_digest(str(proof), appsecret_proof(str(app["secret"]), token)):
                raise errors.invalid_appsecret_proof()
        return entry

    # ----------------------------------------------------------- internals
    def _execute(self, op: Operation) -> OpResult:
        metrics = self.metrics
        is_write = op.method in ("POST", "DELETE")
        metrics.add(operations=1, reads=0 if is_write else 1)
        ctx = _Ctx()
        try:
            if op.path == "" and op.method == "GET" and "ids" in op.params:
                raise errors.multi_id_not_supported()
            if op.version is None:
                raise errors.unversioned_call(self.versions.latest)
            bad = self.versions.check(op.version)
            if bad:
                raise bad
            if op.proof_checked:
                entry = self.store.token(op.token or "")
                if entry is None:  # defensive: the batch layer checked it
                    entry = self.authenticate(op.token, op.params)
            else:
                entry = self.authenticate(op.token, op.params)
            if entry["accounts"]:
                ctx.fallback_account = entry["accounts"][0]
            if is_write:
                metrics.add(writes=1)
            result = self._route(op, entry, ctx, is_write)
        except GraphError as exc:
            result = self._error_result(exc, ctx)
        if result.account is None:
            result.account = ctx.account or ctx.fallback_account
        return result

    def _error_result(self, exc: GraphError, ctx: _Ctx) -> OpResult:
        inc = {"errors": 1}
        if exc.throttle_kind:
            inc["throttles"] = 1
            inc["throttles_" + exc.throttle_kind] = 1
        self.metrics.add(**inc)
        return OpResult(
            status=exc.status, body=exc.body(), account=ctx.account,
            points=ctx.points, error=exc, headers=dict(exc.headers),
        )

    def _route(self, op: Operation, token: dict, ctx: _Ctx, is_write: bool) -> OpResult:
        segments = op.path.split("/") if op.path else []
        if not segments:
            raise errors.unsupported_root(op.method)
        if len(segments) == 1:
            return self._node(op, segments[0], token, ctx, is_write)
        if len(segments) == 2:
            return self._edge(op, segments[0], segments[1], token, ctx, is_write)
        raise errors.unknown_path(op.path)

    def _reach(self, method: str, oid: str, token: dict, ctx: _Ctx, cost: int, is_write: bool) -> str:
        """Resolve an object the token may reach and charge the call; return its kind."""
        store = self.store
        kind = store.kind(oid)
        if kind is None:
            raise errors.unsupported_request(method, oid)
        account = store.account_id_of(oid)
        if account not in token["accounts"]:
            raise errors.unsupported_request(method, oid)
        ctx.account = account
        throttled = self.limiter.charge(account, cost, is_write, self.clock.now())
        if throttled is not None:
            raise throttled
        ctx.points = cost
        self.metrics.add(points=cost)
        return kind

    # --- nodes -------------------------------------------------------------
    def _node(self, op: Operation, oid: str, token: dict, ctx: _Ctx, is_write: bool) -> OpResult:
        kind = self._reach(op.method, oid, token, ctx, 3 if is_write else 1, is_write)
        if is_write:
            return self._write(op, oid, kind, ctx)
        names = rules.parse_fields(op.params.get("fields"))
        body = self.store.render(oid, names, self.clock.wall())
        if op.params.get("metadata") in ("1", "true", "True"):
            body["metadata"] = self.store.metadata(kind)
        return OpResult(200, body, account=ctx.account, points=ctx.points)

    def _write(self, op: Operation, oid: str, kind: str, ctx: _Ctx) -> OpResult:
        store = self.store
        params = op.params
        if op.method == "DELETE":
            params = {**params, "status": "DELETED"}
        wall = self.clock.wall()
        now = self.clock.now()
        if rules.is_validate_only(params):
            self.metrics.add(validate_only=1)  # counted whether or not it passes
        plan = rules.plan_update(store, oid, params, wall)
        limited = plan.budget_changed and self.budget_tracker.applies_to(kind)
        if plan.validate_only:
            if limited:
                err = self.budget_tracker.check(oid, now, record_block=False)
                if err:
                    raise err
            if plan.fields is not None:
                store.check_fields(kind, plan.fields)
            return OpResult(200, {"success": True}, account=ctx.account, points=ctx.points)
        if limited:
            err = self.budget_tracker.check(oid, now)
            if err:
                raise err
        obj = store.objects[oid]
        changed = any(obj.get(k) != v for k, v in plan.changes.items())
        applied = False
        if self.injector.silent_noop(oid):
            self.metrics.add(silent_noops=1)
        elif changed:
            obj.update(plan.changes)
            if plan.touches_updated_time:
                tz = store.account_of_obj(obj, kind)["timezone_name"]
                obj["updated_time"] = format_time(wall, tz)
            if limited:
                self.budget_tracker.record(oid, now)
            applied = True
            self.metrics.add(writes_applied=1)
        if plan.fields is None:
            body: Any = {"success": True}
        else:
            try:
                body = store.render(oid, plan.fields, wall)
            except GraphError as exc:
                # Meta applies the write, then reports the failed read with the
                # write's own result attached.
                exc.error_data = {"original_response": {"success": True}}
                raise
        return OpResult(200, body, account=ctx.account, points=ctx.points, applied=applied)

    # --- edges -------------------------------------------------------------
    def _edge(self, op: Operation, owner: str, edge: str, token: dict, ctx: _Ctx, is_write: bool) -> OpResult:
        store = self.store
        okind = store.kind(owner)
        if okind is None:
            raise errors.unsupported_request(op.method, owner)
        child_kind = EDGES.get(okind, {}).get(edge)
        if child_kind is None:
            raise errors.nonexisting_field(edge, NODE_TYPES[okind])
        if is_write:
            # Creating objects is outside what the emulator models.
            raise errors.unsupported_request(op.method, owner)
        self._reach(op.method, owner, token, ctx, 1, False)
        params = op.params
        names = rules.parse_fields(params.get("fields"))
        store.check_fields(child_kind, names)
        predicates, status_filtered = _parse_filters(params, child_kind)
        limit = _parse_limit(params.get("limit"))
        after = _decode_cursor(params["after"]) if params.get("after") else -1

        matches: list[str] = []
        for cid in _candidates(store, owner, edge, predicates):
            if not status_filtered and store.effective_status(cid) in HIDDEN_ON_EDGES:
                continue
            if all(pred.matches(store, cid) for pred in predicates):
                matches.append(cid)
        position = store.position
        remaining = [cid for cid in matches if position[cid] > after]
        page = remaining[:limit]
        wall = self.clock.wall()
        body: dict[str, Any] = {"data": [store.render(cid, names, wall) for cid in page]}
        if page:
            paging: dict[str, Any] = {
                "cursors": {
                    "before": _encode_cursor(position[page[0]]),
                    "after": _encode_cursor(position[page[-1]]),
                }
            }
            if len(remaining) > len(page):
                query = {k: v for k, v in params.items() if k not in SECRET_PARAMS and k not in ("after", "before")}
                query["limit"] = str(limit)
                query["after"] = paging["cursors"]["after"]
                paging["next"] = f"{op.base_url}/{op.version}/{owner}/{edge}?{urlencode(query)}"
            body["paging"] = paging
        if params.get("summary") in ("true", "1", "True"):
            body["summary"] = {"total_count": len(matches)}
        return OpResult(200, body, account=ctx.account, points=ctx.points)


def _candidates(store: Store, owner: str, edge: str, predicates: list["_FilterSpec"]) -> list[str]:
    """The children to test: with an id IN/EQUAL filter only those ids (in edge order), so a
    filtered listing costs what it returns, not the size of the account (100,000 objects)."""
    by_id = next((p for p in predicates if p.getter is _f_id and p.operator in ("IN", "EQUAL")), None)
    if by_id is None:
        return store.children(owner, edge)
    members = store.children_set(owner, edge)
    return sorted((cid for cid in by_id.values if cid in members), key=store.position.__getitem__)


def _parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_param("Param limit must be an integer", blame="limit") from None
    return max(1, min(MAX_PAGE_LIMIT, value))


_FILTER_OPS = ("IN", "NOT_IN", "EQUAL", "NOT_EQUAL", "CONTAIN", "NOT_CONTAIN")


def _parse_filters(params: dict[str, str], kind: str) -> tuple[list, bool]:
    """``filtering=[{field, operator, value}]`` and ``effective_status=[...]``.

    Returns (the filters, whether effective_status was filtered: then deleted
    and archived objects are listed when they match, as on Meta).
    """
    specs: list[dict] = []
    if params.get("filtering"):
        try:
            parsed = json.loads(params["filtering"])
        except ValueError:
            raise errors.bad_param("param filtering must be a JSON array", blame="filtering") from None
        if not isinstance(parsed, list) or not all(isinstance(s, dict) for s in parsed):
            raise errors.bad_param("param filtering must be an array of objects", blame="filtering")
        specs.extend(parsed)
    if params.get("effective_status"):
        try:
            statuses = json.loads(params["effective_status"])
        except ValueError:
            statuses = [s.strip() for s in params["effective_status"].split(",")]
        if isinstance(statuses, str):
            statuses = [statuses]
        specs.append({"field": "effective_status", "operator": "IN", "value": statuses})
    return [_FilterSpec(s, kind) for s in specs], any(
        s.get("field") == "effective_status" for s in specs
    )


class _FilterSpec:
    """One filtering entry, evaluated against the store at call time."""

    def __init__(self, spec: dict, kind: str) -> None:
        field_name = spec.get("field")
        operator = spec.get("operator")
        value = spec.get("value")
        getter = _FILTER_FIELDS.get(field_name or "")
        if getter is None or (field_name in ("adset.id", "adset_id") and kind == "campaign"):
            raise errors.bad_param(
                f"Filtering field {field_name} is invalid. Please refer to the documentation "
                "for the fields you can filter on.", blame="filtering")
        if operator not in _FILTER_OPS:
            raise errors.bad_param(f"Filtering operator {operator} is invalid", blame="filtering")
        if operator in ("IN", "NOT_IN"):
            if not isinstance(value, list):
                raise errors.bad_param(f"Filtering value for {operator} must be an array", blame="filtering")
            self.values = {str(v) for v in value}
        else:
            self.values = {str(value)}
        self.value = str(value)
        self.getter = getter
        self.operator = operator

    def matches(self, store: Store, oid: str) -> bool:
        actual = str(self.getter(store, oid))
        op = self.operator
        if op in ("IN", "EQUAL"):
            return actual in self.values
        if op in ("NOT_IN", "NOT_EQUAL"):
            return actual not in self.values
        if op == "CONTAIN":
            return self.value.lower() in actual.lower()
        return self.value.lower() not in actual.lower()  # NOT_CONTAIN


def _f_id(store: Store, oid: str) -> str:
    return oid


def _f_campaign(store: Store, oid: str) -> str:
    camp = store.campaign_of(oid)
    return camp["id"] if camp else ""


def _f_adset(store: Store, oid: str) -> str:
    kind = store.kinds[oid]
    if kind == "adset":
        return oid
    return store.objects[oid].get("adset_id", "")


_FILTER_FIELDS = {
    "id": _f_id,
    "campaign.id": _f_campaign,
    "campaign_id": _f_campaign,
    "adset.id": _f_adset,
    "adset_id": _f_adset,
    "effective_status": lambda store, oid: store.effective_status(oid),
    "configured_status": lambda store, oid: store.objects[oid]["status"],
    "name": lambda store, oid: store.objects[oid].get("name") or "",
}
