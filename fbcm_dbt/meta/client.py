"""The only module that speaks HTTP to Meta.

Every call goes out as a batch request (`POST /{version}/` with `batch=[...]`, at most 50
operations): one round trip serves up to 50 reads or writes, and the token travels in the form
body — never in a URL that a proxy, a log line or an exception could repeat. Several batches may
be in flight at once; the pacer keeps them all under Meta's rate limits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlencode

import requests

from fbcm_dbt.errors import AuthError, MetaApiError, MetaErrorDetail, TransportError
from fbcm_dbt.meta.errors import ErrorKind, classify, parse_error
from fbcm_dbt.meta.pacing import READ_POINTS, WRITE_POINTS, Pacer, PacingSettings

log = logging.getLogger("fbcm.meta")

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v26.0"
MAX_BATCH = 50


@dataclass(frozen=True)
class ClientSettings:
    graph_url: str = DEFAULT_GRAPH_URL
    api_version: str = DEFAULT_API_VERSION
    timeout_seconds: float = 60.0
    max_attempts: int = 5            # per batch and per operation, for transport failures, 5xx and null entries
    max_wait_seconds: float = 1800.0  # the most time one batch may spend waiting for throttles to clear
    backoff_base_seconds: float = 0.5
    concurrency: int = 4             # batches in flight at once
    pacing: PacingSettings = field(default_factory=PacingSettings)


@dataclass(frozen=True)
class Call:
    """One Graph operation: GET params go in the query, POST params in the body."""

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def points(self) -> int:
        return READ_POINTS if self.method == "GET" else WRITE_POINTS

    def as_batch_op(self) -> dict[str, str]:
        params = {k: _wire_value(v) for k, v in self.params.items()}
        if self.method == "GET":
            url = f"{self.path}?{urlencode(params)}" if params else self.path
            return {"method": "GET", "relative_url": url}
        return {"method": self.method, "relative_url": self.path, "body": urlencode(params)}


@dataclass(frozen=True)
class Result:
    status: int | None
    body: Any
    error: MetaErrorDetail | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class ClientStats:
    http_requests: int = 0
    operations: int = 0
    retries: int = 0
    throttle_waits: int = 0
    throttled_operations: int = 0
    seconds_waited: float = 0.0


class GraphClient:
    def __init__(self, token: str, app_secret: str | None = None, settings: ClientSettings | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None):
        if not token:
            raise AuthError(MetaErrorDetail("no access token: set FBCM_ACCESS_TOKEN"))
        self._token = token
        self._proof = hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest() if app_secret else None
        self.settings = settings or ClientSettings()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(1, self.settings.concurrency))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self.pacer = Pacer(self.settings.pacing, clock=clock, sleep=sleep)
        self.stats = ClientStats()
        self._stats_lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"{self.settings.graph_url.rstrip('/')}/{self.settings.api_version}/"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "GraphClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def execute(self, calls: Sequence[Call], batch_size: int = MAX_BATCH) -> list[Result]:
        """Run every call; results in the same order. Raises only for errors no call can survive."""
        batches = [list(calls[i:i + batch_size]) for i in range(0, len(calls), batch_size)]
        return [result for batch in self.execute_batches(batches) for result in batch or ()]

    def execute_batches(self, batches: Sequence[Sequence[Call]],
                        on_done: Callable[[int, list[Result]], None] | None = None,
                        should_stop: Callable[[], bool] | None = None,
                        max_in_flight: int | None = None,
                        on_send: Callable[[int], None] | None = None) -> list[list[Result] | None]:
        """Send each group of calls as one batch, several at once; `None` for groups never sent.

        `on_send(index)` and `on_done(index, results)` are called on this thread as each batch goes
        out and completes; once `should_stop()` is true no further batch is sent, and those in
        flight are finished. Every batch that went out reaches `on_done`, even when the run then
        stops on an error no call can survive (raised once the batches in flight are done).
        """
        out: list[list[Result] | None] = [None] * len(batches)
        if not batches:
            return out
        workers = max(1, min(max_in_flight or self.settings.concurrency, len(batches)))
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fbcm-meta") as pool:
            in_flight: dict[Future, int] = {}
            next_index = 0
            while next_index < len(batches) or in_flight:
                while (failure is None and next_index < len(batches) and len(in_flight) < workers
                       and not (should_stop and should_stop())):
                    if on_send:
                        on_send(next_index)
                    in_flight[pool.submit(self._complete_batch, batches[next_index])] = next_index
                    next_index += 1
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    index = in_flight.pop(future)
                    results, batch_failure = future.result()
                    out[index] = results
                    failure = failure or batch_failure
                    try:
                        if on_done:
                            on_done(index, results)
                    except Exception as exc:  # e.g. the ledger failed: stop sending, keep every answer
                        failure = failure or exc
        if failure is not None:
            raise failure
        return out

    def _complete_batch(self, calls: Sequence[Call]) -> tuple[list[Result], Exception | None]:
        """One batch to the end: operations that time out (null) or hit a transient error go again
        after a backoff, at most `max_attempts` times; throttled ones go again after the wait Meta
        names, for at most `max_wait_seconds` of waiting in all.

        Never raises: an error that stops the run comes back beside the results, and operations
        whose fate it left unknown carry it as their error."""
        results: list[Result | None] = [None] * len(calls)
        pending = list(range(len(calls)))
        answered: set[int] = set()
        attempts = 1
        waited = 0.0
        try:
            while pending:
                answered = set()
                headers = self._send_parts(pending, calls, results, answered)
                transient: list[int] = []
                throttled: list[int] = []
                auth: MetaErrorDetail | None = None
                for index in pending:
                    result = results[index]
                    kind = classify(result.error) if result and result.error else None
                    if kind is ErrorKind.AUTH:
                        auth = auth or result.error
                    elif result is None or kind is ErrorKind.TRANSIENT:
                        transient.append(index)
                    elif kind is ErrorKind.THROTTLED:
                        throttled.append(index)
                if auth is not None:
                    raise AuthError(auth)
                block = _throttle_wait(headers) if throttled else 0.0
                delay = block or self._backoff(attempts)
                if throttled and waited + delay > self.settings.max_wait_seconds:
                    throttled = []  # waited long enough: those operations keep Meta's throttle error
                if transient and attempts >= self.settings.max_attempts:
                    transient = []
                pending = sorted(transient + throttled)
                if not pending:
                    break
                if throttled:
                    waited += delay
                    self._count(throttle_waits=1, throttled_operations=len(throttled))
                self._count(retries=len(pending))
                if block:
                    log.info("account throttled: %d operation(s) wait %.0fs as Meta says", len(throttled), block)
                    self.pacer.block_for(block)  # every worker waits, not only this one
                else:
                    log.info("retrying %d operation(s) in %.1fs", len(pending), delay)
                    self._pause(delay)
                if transient:
                    attempts += 1
        except (AuthError, MetaApiError, TransportError) as exc:
            unknown = Result(None, None, MetaErrorDetail(
                f"outcome unknown: the run stopped before Meta confirmed this operation ({self._scrub_text(str(exc))})"))
            sent_unanswered = set(pending) - answered
            return [unknown if r is None or i in sent_unanswered else r for i, r in enumerate(results)], exc
        return [r if r is not None else Result(None, None, MetaErrorDetail(
            "the operation timed out inside the batch (null entry) on every attempt", is_transient=True))
                for r in results], None

    def _send_parts(self, pending: Sequence[int], calls: Sequence[Call], results: list[Result | None],
                    answered: set[int]) -> Mapping[str, str]:
        """Send the pending calls in as many requests as the account's budget needs, storing each
        part's answers as it arrives; return the headers naming the longest throttle of any part."""
        headers: Mapping[str, str] = {}
        for part in _fit(pending, calls, self.pacer.capacity_points(), self.pacer.settings.mutations_per_second):
            entries, part_headers = self._post_batch([calls[i] for i in part])
            if not headers or _throttle_wait(part_headers) >= _throttle_wait(headers):
                headers = part_headers
            for index, entry in zip(part, entries):
                results[index] = self._scrub(_entry_result(entry))
                answered.add(index)
        return headers

    def _scrub(self, result: Result | None) -> Result | None:
        """Meta may quote the token back in an error; no message leaves this module with it."""
        if result is None or result.error is None:
            return result
        error = result.error
        return Result(result.status, result.body, replace(
            error, message=self._scrub_text(error.message), user_message=self._scrub_text(error.user_message),
            user_title=self._scrub_text(error.user_title)))

    def _scrub_text(self, text: str | None) -> str | None:
        if text is None:
            return None
        for secret in (self._token, self._proof):
            if secret:
                text = text.replace(secret, "[redacted]")
        return text

    def _post_batch(self, calls: Sequence[Call]) -> tuple[list[Any], Mapping[str, str]]:
        """POST one batch, retrying the whole request on transport failures and whole-batch errors."""
        form = {"access_token": self._token, "include_headers": "false",
                "batch": json.dumps([c.as_batch_op() for c in calls], separators=(",", ":"))}
        if self._proof:
            form["appsecret_proof"] = self._proof
        points = sum(c.points for c in calls)
        writes = sum(1 for c in calls if c.method != "GET")
        attempt = 0
        while True:
            attempt += 1
            self.pacer.reserve(points, writes)
            outcome = self._send(form, len(calls), points)
            if isinstance(outcome, _Answer):
                return outcome.entries, outcome.headers
            if attempt >= self.settings.max_attempts or outcome.wait > self.settings.max_wait_seconds:
                raise outcome.error
            self._count(retries=1, throttle_waits=1 if outcome.wait else 0)
            if outcome.wait:
                log.info("account throttled: waiting %.0fs as Meta says", outcome.wait)
                self.pacer.block_for(outcome.wait)
            else:
                delay = self._backoff(attempt)
                log.info("retrying a batch of %d in %.1fs: %s", len(calls), delay, outcome.error)
                self._pause(delay)

    def _send(self, form: Mapping[str, str], size: int, points: int) -> "_Answer | _Retry":
        self._count(http_requests=1, operations=size)
        started = time.monotonic()
        try:
            response = self._session.post(self.endpoint, data=form, timeout=self.settings.timeout_seconds)
        except requests.RequestException as exc:
            self.pacer.release(points)
            return _Retry(TransportError(f"cannot reach {self.endpoint}: {type(exc).__name__}"))
        self.pacer.observe(response.headers, points)
        log.debug("batch of %d -> HTTP %d in %.0f ms", size, response.status_code, (time.monotonic() - started) * 1000)
        try:
            payload = response.json()
        except ValueError:
            return _Retry(TransportError(f"{self.endpoint} answered HTTP {response.status_code} with a non-JSON body"))
        if isinstance(payload, list) and response.status_code == 200 and len(payload) == size:
            return _Answer(payload, response.headers)
        parsed = self._scrub(Result(response.status_code, payload, parse_error(payload, response.status_code)))
        detail = parsed.error if parsed else None
        if detail is None:
            return _Retry(TransportError(f"{self.endpoint} answered HTTP {response.status_code} with an unexpected body"))
        kind = classify(detail)
        if kind is ErrorKind.AUTH:
            raise AuthError(detail)
        if kind is ErrorKind.THROTTLED:
            return _Retry(MetaApiError(detail), _throttle_wait(response.headers))
        if kind is ErrorKind.TRANSIENT or response.status_code >= 500:
            return _Retry(MetaApiError(detail))
        raise MetaApiError(detail)

    def _backoff(self, attempt: int) -> float:
        base = self.settings.backoff_base_seconds * (2 ** (attempt - 1))
        return base * (0.5 + self._rng.random())  # jitter keeps parallel runs from retrying in step

    def _pause(self, seconds: float) -> None:
        self._count(seconds_waited=seconds)
        self._sleep(seconds)

    def _count(self, **increments: float) -> None:
        with self._stats_lock:
            for name, value in increments.items():
                setattr(self.stats, name, getattr(self.stats, name) + value)


@dataclass(frozen=True)
class _Answer:
    entries: list[Any]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class _Retry:
    error: Exception
    wait: float = 0.0


def _fit(indexes: Sequence[int], calls: Sequence[Call], capacity: int, max_writes: int | None) -> list[list[int]]:
    """Split a batch so no part carries more rate-limit points than the account can take at once
    (a development-tier account takes 60 points: 20 writes, not 50), nor more writes than the
    writes-per-second cap."""
    parts: list[list[int]] = [[]]
    points = writes = 0
    for index in indexes:
        cost = calls[index].points
        is_write = calls[index].method != "GET"
        if parts[-1] and (points + cost > capacity or (is_write and max_writes and writes + 1 > max_writes)):
            parts.append([])
            points = writes = 0
        parts[-1].append(index)
        points += cost
        writes += is_write
    return parts


def _entry_result(entry: Any) -> Result | None:
    if entry is None:
        return None
    status = entry.get("code")
    try:
        body = json.loads(entry.get("body") or "null")
    except ValueError:
        return Result(status, None, MetaErrorDetail("operation answered with a non-JSON body", is_transient=True,
                                                    http_status=status))
    return Result(status, body, parse_error(body, status))


def _usage(headers: Mapping[str, str]) -> dict[str, Any]:
    usage: dict[str, Any] = {}
    for name in ("x-ad-account-usage", "x-business-use-case-usage", "x-app-usage"):
        raw = headers.get(name)
        if raw:
            try:
                usage[name] = json.loads(raw)
            except ValueError:
                continue
    return usage


def _throttle_wait(headers: Mapping[str, str]) -> float:
    """How long Meta says a block lasts, or 0 when it names none (a short backoff then fits, e.g.
    for the mutations-per-second cap). Not less than Meta says: calls during a block extend it."""
    usage = _usage(headers)
    seconds = 0.0
    for entries in (usage.get("x-business-use-case-usage") or {}).values():
        for entry in entries if isinstance(entries, list) else []:
            minutes = entry.get("estimated_time_to_regain_access") or 0
            seconds = max(seconds, float(minutes) * 60)
    account = usage.get("x-ad-account-usage") or {}
    if isinstance(account, Mapping) and float(account.get("acc_id_util_pct") or 0) >= 100:
        # while blocked, reset_time_duration is what is left of the block (the BUC estimate is in whole minutes)
        seconds = float(account.get("reset_time_duration") or 0) or seconds
    return seconds


def _wire_value(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
