"""HTTP front end and the :class:`Emulator` object.

* Graph paths (``/vNN.0/...``) go through faults, then batch or single-operation
  handling (graph.py / batch.py), and get Meta's headers: ``x-fb-trace-id``,
  ``facebook-api-version`` and the three usage headers.
* ``/__emulator/...`` admin paths (no auth, no faults, not counted) expose state,
  counters, the log, object patches, fault settings and the clock.

Served by a ``ThreadingHTTPServer`` (one daemon thread per connection, HTTP/1.1
keep-alive, Content-Length on every answer). State is protected by the one
lock in :class:`~.graph.Graph`; the latency fault sleeps outside it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP as _HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import errors
from .batch import parse_batch, run_batch
from .clock import Clock
from .errors import GraphError, new_trace_id
from .faults import FaultInjector, Faults
from .graph import SECRET_PARAMS, Graph, Operation, Versions, split_version
from .limits import BudgetChangeLimit, BudgetChangeTracker, Limiter, RateLimits
from .observability import Metrics
from .store import Store, load_state

ADMIN_PREFIX = "/__emulator"
JSON_TYPE = "application/json; charset=UTF-8"
_REASONS = {s.value: s.phrase for s in HTTPStatus}
_HTML_ERROR = (
    b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head>"
    b"<body><h1>Sorry, something went wrong.</h1><p>We're working on getting this fixed as soon "
    b"as we can.</p></body></html>"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: "Emulator") -> None:
        self.emulator = emulator
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Client disconnects and the like: nothing to report per request.
        pass


class _Headers(dict):
    """Request headers with case-insensitive ``get`` (all the handler needs)."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return dict.get(self, name.lower(), default)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fbcm-emulator"
    sys_version = ""
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # no per-request stderr output: benchmarks push 10,000s of requests

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def parse_request(self) -> bool:
        """A lean replacement of the stdlib's parser.

        The stdlib runs every header block through the email package, which
        was a quarter of the server's time per request. This keeps what the
        emulator needs: the request line, headers, HTTP/1.1 keep-alive rules
        and ``Expect: 100-continue``.
        """
        self.command = None
        self.request_version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request line {requestline!r}")
            return False
        self.command, self.path, self.request_version = words
        headers = _Headers()
        for _ in range(101):
            line = self.rfile.readline(65537)
            if len(line) > 65536:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Header line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            name, sep, value = line.decode("iso-8859-1").partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        else:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
            return False
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif self.request_version == "HTTP/1.1" or connection == "keep-alive":
            self.close_connection = False
        if headers.get("expect", "").lower() == "100-continue" and self.request_version == "HTTP/1.1":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    # ------------------------------------------------------------ plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _body_params(self, body: bytes) -> dict[str, str]:
        if not body:
            return {}
        ctype = (self.headers.get("Content-Type") or "").lower()
        if ctype.startswith("application/json"):
            try:
                data = json.loads(body)
            except ValueError:
                return {}
            if not isinstance(data, dict):
                return {}
            return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
        if ctype.startswith("multipart/form-data"):
            head = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
            msg = BytesParser(policy=_HTTP_POLICY).parsebytes(head + body)
            out = {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name:
                    payload = part.get_payload(decode=True) or b""
                    out[name] = payload.decode("utf-8", "replace")
            return out
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def send_raw(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n",
                 f"Content-Type: {content_type}\r\n",
                 f"Content-Length: {len(body)}\r\n"]
        for name, value in headers.items():
            lines.append(f"{name}: {value}\r\n")
        if self.close_connection:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        self.wfile.write("".join(lines).encode("latin-1") + body)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        self.send_raw(status, body, JSON_TYPE, headers or {})

    def drop(self) -> None:
        """Close the socket without an answer (the 'dropped connection' fault)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        body = self._read_body()
        emulator = self.server.emulator
        if split.path == ADMIN_PREFIX or split.path.startswith(ADMIN_PREFIX + "/"):
            emulator._admin(self, method, split.path[len(ADMIN_PREFIX):], body)
        else:
            emulator._graph_http(self, method, split.path, split.query, body)

    def token_from_header(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() in ("oauth", "bearer") and value.strip():
            return value.strip()
        return None


class Emulator:
    """A local stand-in for Meta's Marketing API.

    ``with Emulator(state) as emu: requests.get(f"{emu.url}/v26.0/{id}", ...)``
    """

    def __init__(
        self,
        state: dict | str | Path,
        *,
        rate_limits: RateLimits | str | dict | None = None,
        faults: Faults | dict | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        api_versions: list[str] | tuple[str, ...] | None = None,
    ) -> None:
        data = load_state(state)
        limits = RateLimits.from_config(rate_limits if rate_limits is not None else data.get("rate_limits"))
        if faults is None and data.get("faults"):
            faults = data["faults"]          # optional state-file key, same fields as Faults
        if isinstance(faults, dict):
            faults = Faults.from_dict(faults)
        self._clock = Clock(limits.time_scale)
        store = Store(data, wall=self._clock.wall())
        self._metrics = Metrics()
        self._graph = Graph(
            store=store,
            limiter=Limiter(limits),
            budget_tracker=BudgetChangeTracker(BudgetChangeLimit.from_config(data.get("budget_change_limit"))),
            injector=FaultInjector(faults, seed),
            metrics=self._metrics,
            clock=self._clock,
            versions=Versions(api_versions),
        )
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> "Emulator":
        if self._server is not None:
            return self
        self._server = _Server((self._host, self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"fbcm-emulator:{self._port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with server.connections_lock:
            conns = list(server.connections)
        for conn in conns:  # idle keep-alive connections would otherwise linger
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL without version or trailing slash, e.g. http://127.0.0.1:54321."""
        if self._server is None:
            raise RuntimeError("the emulator is not running (use start() or a with block)")
        host = self._host if self._host not in ("0.0.0.0", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    @property
    def host(self) -> str:
        return self._host

    # ---------------------------------------------------- in-process access
    def dump_state(self) -> dict:
        with self._graph.lock:
            return self._graph.store.dump()

    def get_object(self, object_id: str) -> dict:
        with self._graph.lock:
            return self._graph.store.get_copy(str(object_id))

    def patch_object(self, object_id: str, **fields: Any) -> dict:
        with self._graph.lock:
            return self._graph.store.patch(str(object_id), fields)

    def counters(self) -> dict[str, int]:
        return self._metrics.counters()

    def reset_counters(self, clear_log: bool = True) -> None:
        self._metrics.reset(clear_log=clear_log)

    def request_log(self) -> list[dict]:
        return self._metrics.request_log()

    @property
    def faults(self) -> Faults:
        return self._graph.injector.faults

    def set_faults(self, faults: Faults | dict) -> None:
        if isinstance(faults, dict):
            faults = Faults.from_dict(faults)
        self._graph.injector.set(faults)

    @property
    def rate_limits(self) -> RateLimits:
        return self._graph.limiter.limits

    def set_rate_limits(self, limits: RateLimits | str | dict) -> None:
        limits = RateLimits.from_config(limits)
        with self._graph.lock:
            self._graph.limiter.configure(limits)
            self._clock.set_time_scale(limits.time_scale)

    def reset_limits(self) -> None:
        """Forget scores, blocks and budget-change history (not the counters)."""
        with self._graph.lock:
            self._graph.limiter.reset()
            self._graph.budget_tracker.reset()

    def advance_clock(self, seconds: float) -> float:
        """Move the emulated clock forward; returns the new emulated time."""
        return self._clock.advance(seconds)

    def now(self) -> float:
        return self._clock.now()

    # ---------------------------------------------------------- Graph HTTP
    def _graph_http(self, h: _Handler, method: str, path: str, query: str, body: bytes) -> None:
        started = time.perf_counter()
        graph = self._graph
        metrics = self._metrics
        metrics.add(http_requests=1)
        entry: dict[str, Any] = {"t": round(self._clock.now(), 3), "method": method, "path": path,
                                 "operations": 0, "points": 0}
        injector = graph.injector
        fault = injector.request_fault()
        if fault == "drop":
            metrics.add(faults_drop=1)
            entry.update(status=None, fault="drop")
            metrics.log(entry)
            h.drop()
            return
        latency = injector.latency_seconds
        if latency:
            time.sleep(latency)

        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(h._body_params(body))
        entry["params"] = sorted(k for k in params if k not in SECRET_PARAMS)
        version, rest = split_version(path)
        served_version = version if version in graph.versions.served else graph.versions.latest
        trace = new_trace_id()
        headers = {"x-fb-trace-id": trace, "facebook-api-version": served_version,
                   "x-fb-rev": "1000000"}
        entry["version"] = version

        if fault is not None:
            metrics.add(errors=1, **{f"faults_{fault}": 1})
            entry["fault"] = fault
            # Log before answering, so a client that got the answer sees the entry.
            if fault == "5xx":
                entry["status"] = 503
                self._finish_log(entry, started)
                h.send_raw(503, b"Service Unavailable", "text/plain; charset=utf-8", headers)
            elif fault == "html":
                entry["status"] = 502
                self._finish_log(entry, started)
                h.send_raw(502, _HTML_ERROR, "text/html; charset=utf-8", headers)
            else:
                err = errors.transient(injector.transient_code())
                entry.update(status=err.status, error_code=err.code)
                headers.update(graph.usage_headers([]))
                self._finish_log(entry, started)
                h.send_json(err.status, err.body(trace), headers)
            return

        token = params.get("access_token") or h.token_from_header()
        base_url = "http://" + (h.headers.get("Host") or f"{self._host}:{self._port}")
        if method == "PUT":
            method = "POST"
        if method == "POST" and rest == "" and "batch" in params:
            status, payload, accounts, extra = self._batch_http(version, params, token, base_url, entry)
            headers.update(extra)
        else:
            op = Operation(method=method, version=version, path=rest, params=params,
                           token=token, base_url=base_url)
            result, usage = graph.execute(op)
            status, payload = result.status, result.body
            headers.update(usage)
            headers.update(result.headers)
            accounts = None
            entry.update(operations=1, points=result.points, account=result.account)
            if result.error is not None:
                entry["error_code"] = result.error.code
                if result.error.subcode is not None:
                    entry["error_subcode"] = result.error.subcode
        if accounts is not None:
            headers.update(graph.usage_headers(accounts))
        if isinstance(payload, dict) and "error" in payload:
            payload["error"]["fbtrace_id"] = trace
        entry["status"] = status
        self._finish_log(entry, started)
        h.send_json(status, payload, headers)

    def _finish_log(self, entry: dict[str, Any], started: float) -> None:
        entry["ms"] = round((time.perf_counter() - started) * 1000, 2)
        self._metrics.log(entry)

    def _batch_http(
        self, version: str | None, params: dict[str, str], token: str | None, base_url: str,
        entry: dict[str, Any],
    ) -> tuple[int, Any, list[str], dict[str, str]]:
        """Run a batch; returns (status, payload, accounts for usage headers, extra headers)."""
        graph = self._graph
        self._metrics.add(batches=1)
        entry["batch"] = True
        try:
            if version is not None:
                bad = graph.versions.check(version)
                if bad:
                    raise bad
            ops = parse_batch(params["batch"])
            with graph.lock:
                graph.authenticate(token, params)
        except GraphError as exc:
            self._metrics.add(errors=1)
            entry["error_code"] = exc.code
            return exc.status, exc.body(), [], dict(exc.headers)
        include_headers = params.get("include_headers", "true").lower() not in ("false", "0")
        outcome = run_batch(graph, ops=ops, version=version, token=token or "",
                            base_url=base_url, include_headers=include_headers)
        entry.update(operations=sum(1 for e in outcome.entries if e is not None),
                     points=outcome.points, ops=outcome.op_log)
        if outcome.accounts:
            entry["account"] = outcome.accounts[0]
        accounts = outcome.accounts
        if not accounts:
            with graph.lock:
                entry_token = graph.store.token(token or "")
            if entry_token and entry_token["accounts"]:
                accounts = [entry_token["accounts"][0]]
        return 200, outcome.entries, accounts, {}

    # --------------------------------------------------------------- admin
    def _admin(self, h: _Handler, method: str, path: str, body: bytes) -> None:
        path = path.rstrip("/") or "/"
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            h.send_json(400, {"error": "body must be JSON"})
            return
        try:
            if method == "GET" and path == "/state":
                h.send_json(200, _jsonable(self.dump_state()))
            elif method == "GET" and path == "/counters":
                h.send_json(200, self.counters())
            elif method == "GET" and path == "/log":
                h.send_json(200, self.request_log())
            elif method == "POST" and path == "/reset_counters":
                self.reset_counters(clear_log=bool(payload.get("clear_log", True)))
                h.send_json(200, {"success": True})
            elif method == "POST" and path == "/reset_limits":
                self.reset_limits()
                h.send_json(200, {"success": True})
            elif method == "POST" and path.startswith("/objects/"):
                obj = self.patch_object(path[len("/objects/"):], **payload)
                h.send_json(200, _jsonable(obj))
            elif method == "GET" and path.startswith("/objects/"):
                h.send_json(200, _jsonable(self.get_object(path[len("/objects/"):])))
            elif method == "POST" and path == "/faults":
                self.set_faults(Faults.from_dict(payload))
                h.send_json(200, self.faults.to_dict())
            elif method == "GET" and path == "/faults":
                h.send_json(200, self.faults.to_dict())
            elif method == "POST" and path == "/rate_limits":
                self.set_rate_limits(payload)
                h.send_json(200, self.rate_limits.to_dict())
            elif method == "GET" and path == "/rate_limits":
                h.send_json(200, self.rate_limits.to_dict())
            elif method == "POST" and path == "/clock":
                now = self.advance_clock(float(payload.get("advance", 0)))
                h.send_json(200, {"now": now})
            elif method == "GET" and path == "/clock":
                h.send_json(200, {"now": self.now(), "time_scale": self._clock.time_scale})
            elif method == "GET" and path == "/health":
                h.send_json(200, {"ok": True})
            else:
                h.send_json(404, {"error": f"no admin endpoint {method} {ADMIN_PREFIX}{path}"})
        except KeyError as exc:
            h.send_json(404, {"error": f"unknown object {exc.args[0]}"})
        except (ValueError, TypeError) as exc:
            h.send_json(400, {"error": str(exc)})


def _jsonable(value: Any) -> Any:
    """Dumped state as JSON (dates from YAML become strings)."""
    return json.loads(json.dumps(value, default=str))
