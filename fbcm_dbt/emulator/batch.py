"""Batch requests: ``POST /vNN.0/`` (or ``/``) with ``batch=[...]``.

Meta's format (BATCH): at most 50 operations, each ``{method, relative_url,
body?, name?}``; the answer is HTTP 200 with a JSON array, in request order, of
``{"code": int, "headers": [{"name", "value"}], "body": "<JSON string>"}`` or
``null`` for an operation that did not complete. Every operation is its own
call for rate limits. Operations run sequentially here (Meta may run them in
parallel, so clients must not rely on the order either way).

Auth: the top-level ``access_token`` (and ``appsecret_proof``) is checked once
for the whole request - a bad one fails the whole request - and applies to
every operation that does not carry its own ``access_token``. An operation
with its own token is authenticated on its own (with its own appsecret_proof
when the app requires one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from . import errors
from .graph import Graph, Operation, split_version

MAX_BATCH_OPS = 50


@dataclass
class BatchOutcome:
    entries: list[Any]                          # dicts or None, in request order
    accounts: list[str] = field(default_factory=list)
    op_log: list[dict[str, Any]] = field(default_factory=list)
    points: int = 0


def parse_batch(raw: str) -> list[Any]:
    try:
        ops = json.loads(raw)
    except ValueError:
        raise errors.bad_param("param batch must be a JSON-encoded array", blame="batch") from None
    if not isinstance(ops, list):
        raise errors.bad_param("param batch must be a JSON-encoded array", blame="batch")
    if len(ops) > MAX_BATCH_OPS:
        raise errors.too_many_batch_ops(MAX_BATCH_OPS)
    return ops


def _op_params(spec: dict, query: str) -> dict[str, str]:
    params = dict(parse_qsl(query, keep_blank_values=True))
    body = spec.get("body")
    if isinstance(body, str):
        params.update(parse_qsl(body, keep_blank_values=True))
    elif isinstance(body, dict):
        params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
    return params


def run_batch(
    graph: Graph,
    *,
    ops: list[Any],
    version: str | None,
    token: str,
    base_url: str,
    include_headers: bool,
) -> BatchOutcome:
    """Execute already-authenticated batch operations (see module docstring)."""
    out = BatchOutcome(entries=[])
    injector = graph.injector
    for index, spec in enumerate(ops):
        if injector.batch_null():
            graph.metrics.add(batch_nulls=1)
            out.entries.append(None)
            out.op_log.append({"index": index, "status": None, "fault": "batch_null"})
            continue
        if not isinstance(spec, dict) or not isinstance(spec.get("relative_url"), str):
            err = errors.bad_param(f"batch[{index}] must be an object with a relative_url", blame="batch")
            graph.metrics.add(operations=1, errors=1)
            out.entries.append(_entry(err.status, err.body(), {}, include_headers))
            out.op_log.append({"index": index, "status": err.status, "error_code": err.code})
            continue
        method = str(spec.get("method") or "GET").upper()
        path, _, query = spec["relative_url"].partition("?")
        op_version, rest = split_version(path)
        params = _op_params(spec, query)
        op_token = params.get("access_token") or token
        op = Operation(
            method=method,
            version=op_version or version,
            path=rest,
            params=params,
            token=op_token,
            proof_checked=(op_token == token),
            base_url=base_url,
        )
        result, usage = graph.execute(op, with_headers=include_headers)
        extra = {**usage, **result.headers}
        if include_headers:
            extra["facebook-api-version"] = op.version or graph.versions.latest
        out.entries.append(_entry(result.status, result.body, extra, include_headers))
        if result.account and result.account not in out.accounts:
            out.accounts.append(result.account)
        out.points += result.points
        log = {"index": index, "method": method, "path": "/" + rest, "status": result.status,
               "points": result.points}
        if result.error is not None:
            log["error_code"] = result.error.code
            if result.error.subcode is not None:
                log["error_subcode"] = result.error.subcode
        out.op_log.append(log)
    return out


def _entry(status: int, body: Any, headers: dict[str, str], include_headers: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": status}
    if include_headers:
        entry["headers"] = [{"name": "Content-Type", "value": "application/json; charset=UTF-8"}] + [
            {"name": k, "value": v} for k, v in headers.items()
        ]
    entry["body"] = json.dumps(body, separators=(",", ":"))
    return entry

