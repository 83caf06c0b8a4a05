"""Log lines on stderr: text or dbt-style JSON, and never a secret in either."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone

SECRET_ENVS = ("FBCM_ACCESS_TOKEN", "FBCM_APP_SECRET")


def redact(text: str) -> str:
    for name in SECRET_ENVS:
        secret = os.environ.get(name, "").strip()
        if len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


class _RedactSecrets(logging.Filter):
    """Last line of defence: no log line may carry the token or app secret, whatever formatted it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class _JsonLines(logging.Formatter):
    """One JSON object per line, shaped like dbt's: {"info": {...}, "data": {...}}."""

    def format(self, record: logging.LogRecord) -> str:
        info = {
            "name": getattr(record, "event", record.name),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "logger": record.name,
        }
        return json.dumps({"info": info, "data": getattr(record, "data", {})}, default=str)


def configure_logging(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(_JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(_RedactSecrets())
    root = logging.getLogger("fbcm")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
