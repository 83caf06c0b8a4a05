"""The only module that speaks HTTP to Meta.

Every call goes out as a batch request (`POST /{version}/` with `batch=[...]`, at most 50
operations): one round trip serves up to 50 reads or writes, and the token travels in the form
body — never in a URL that a proxy, a log line or an exception could repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlencode

import requests

from fbcm_dbt.errors import AuthError, MetaApiError, MetaErrorDetail, TransportError
from fbcm_dbt.meta.errors import ErrorKind, classify, parse_error

log = logging.getLogger("fbcm.meta")

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v26.0"
MAX_BATCH = 50


@dataclass(frozen=True)
class ClientSettings:
    graph_url: str = DEFAULT_GRAPH_URL
    api_version: str = DEFAULT_API_VERSION
    timeout_seconds: float = 60.0
    max_attempts: int = 5           # per operation, across transport failures, null entries and throttling
    max_wait_seconds: float = 900.0  # the longest single wait for a throttle to clear before giving up
    backoff_base_seconds: float = 0.5


@dataclass(frozen=True)
class Call:
    """One Graph operation: GET params go in the query, POST params in the body."""

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)

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
    seconds_waited: float = 0.0


@dataclass
class _Pending:
    index: int
    call: Call
    attempts: int = 0
    last_error: MetaErrorDetail | None = None


class GraphClient:
    def __init__(self, token: str, app_secret: str | None = None, settings: ClientSettings | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None):
        if not token:
            raise AuthError(MetaErrorDetail("no access token: set FBCM_ACCESS_TOKEN"))
        self._token = token
        self._proof = hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest() if app_secret else None
        self.settings = settings or ClientSettings()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._session = requests.Session()
        self.stats = ClientStats()
        self.last_usage: dict[str, Any] = {}

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
        results: list[Result | None] = [None] * len(calls)
        pending = [_Pending(i, c) for i, c in enumerate(calls)]
        while pending:
            chunk, pending = pending[:batch_size], pending[batch_size:]
            retry = self._run_batch(chunk, results)
            pending = retry + pending
        return [r if r is not None else Result(None, None, MetaErrorDetail("no result")) for r in results]

    def _run_batch(self, chunk: list[_Pending], results: list[Result | None]) -> list[_Pending]:
        """Send one batch; store final results; return the operations to send again."""
        for item in chunk:
            item.attempts += 1
        entries, headers = self._post_batch(chunk)
        retry: list[_Pending] = []
        wait = 0.0
        for item, entry in zip(chunk, entries):
            result = _entry_result(entry)
            if result is None or (result.error and classify(result.error) in (ErrorKind.TRANSIENT, ErrorKind.THROTTLED)):
                detail = result.error if result else MetaErrorDetail("the operation timed out inside the batch", is_transient=True)
                if result and result.error and classify(result.error) is ErrorKind.THROTTLED:
                    wait = max(wait, _throttle_wait(headers, result.error))
                item.last_error = detail
                if item.attempts < self.settings.max_attempts and wait <= self.settings.max_wait_seconds:
                    retry.append(item)
                    continue
                results[item.index] = Result(result.status if result else None, None, detail)
                continue
            if result.error and classify(result.error) is ErrorKind.AUTH:
                raise AuthError(result.error)
            results[item.index] = result
        if retry:
            self.stats.retries += len(retry)
            delay = wait or self._backoff(max(i.attempts for i in retry))
            if wait:
                self.stats.throttle_waits += 1
            log.info("retrying %d operation(s) in %.1fs (%s)", len(retry), delay, retry[0].last_error.describe())
            self._pause(delay)
        return retry

    def _post_batch(self, chunk: list[_Pending]) -> tuple[list[Any], Mapping[str, str]]:
        """POST one batch, retrying the whole request on transport failures and whole-batch errors."""
        form = {"access_token": self._token, "include_headers": "false",
                "batch": json.dumps([p.call.as_batch_op() for p in chunk], separators=(",", ":"))}
        if self._proof:
            form["appsecret_proof"] = self._proof
        attempt = 0
        while True:
            attempt += 1
            failure, wait = self._try_post(form, len(chunk))
            if isinstance(failure, tuple):
                return failure
            if attempt >= self.settings.max_attempts or wait > self.settings.max_wait_seconds:
                raise failure
            self.stats.retries += 1
            log.info("retrying a batch of %d in %.1fs: %s", len(chunk), wait or self._backoff(attempt), failure)
            self._pause(wait or self._backoff(attempt))

    def _try_post(self, form: Mapping[str, str], size: int) -> tuple[Any, float]:
        """((entries, headers), 0) on success, or (retryable exception, seconds to wait)."""
        self.stats.http_requests += 1
        self.stats.operations += size
        started = time.monotonic()
        try:
            response = self._session.post(self.endpoint, data=form, timeout=self.settings.timeout_seconds)
        except requests.RequestException as exc:
            return TransportError(f"cannot reach {self.endpoint}: {type(exc).__name__}"), 0.0
        log.debug("batch of %d -> HTTP %d in %.0f ms", size, response.status_code, (time.monotonic() - started) * 1000)
        self.last_usage = _usage(response.headers)
        try:
            payload = response.json()
        except ValueError:
            return TransportError(f"{self.endpoint} answered HTTP {response.status_code} with a non-JSON body"), 0.0
        if isinstance(payload, list) and response.status_code == 200 and len(payload) == size:
            return (payload, response.headers), 0.0
        detail = parse_error(payload, response.status_code)
        if detail is None:
            return TransportError(f"{self.endpoint} answered HTTP {response.status_code} with an unexpected body"), 0.0
        kind = classify(detail)
        if kind is ErrorKind.AUTH:
            raise AuthError(detail)
        if kind is ErrorKind.THROTTLED:
            self.stats.throttle_waits += 1
            return MetaApiError(detail), _throttle_wait(response.headers, detail)
        if kind is ErrorKind.TRANSIENT or response.status_code >= 500:
            return MetaApiError(detail), 0.0
        raise MetaApiError(detail)

    def _backoff(self, attempt: int) -> float:
        base = self.settings.backoff_base_seconds * (2 ** (attempt - 1))
        return base * (0.5 + self._rng.random())  # full jitter keeps parallel runs from retrying in step

    def _pause(self, seconds: float) -> None:
        self.stats.seconds_waited += seconds
        self._sleep(seconds)


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


def _throttle_wait(headers: Mapping[str, str], detail: MetaErrorDetail) -> float:
    """How long Meta says the block lasts: the larger of the BUC estimate and the account reset time."""
    usage = _usage(headers)
    seconds = 0.0
    account = usage.get("x-ad-account-usage") or {}
    if isinstance(account, Mapping):
        seconds = max(seconds, float(account.get("reset_time_duration") or 0))
    for entries in (usage.get("x-business-use-case-usage") or {}).values():
        for entry in entries if isinstance(entries, list) else []:
            minutes = entry.get("estimated_time_to_regain_access") or 0
            seconds = max(seconds, float(minutes) * 60)
    return seconds or 60.0


def _wire_value(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
