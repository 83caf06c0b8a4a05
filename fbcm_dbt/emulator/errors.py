"""Meta's error object, and the errors that are not about a specific rule.

Every failure the emulator reports is a :class:`GraphError`, rendered as
Meta's JSON::

    {"error": {"message", "type", "code", "error_subcode", "error_user_title",
               "error_user_msg", "is_transient", "fbtrace_id", ...}}

Meta's own wording is used where it is known (see README.md for which messages
are confirmed and which are the emulator's guess). Validation errors of ad
objects use type ``OAuthException`` and message "Invalid parameter" as Meta
does; "object does not exist" errors use ``GraphMethodException``.
"""

from __future__ import annotations

import random
import string
import threading
from dataclasses import dataclass, field
from typing import Any

_TRACE_ALPHABET = string.ascii_letters + string.digits + "-_"
_trace_rng = random.Random()
_trace_lock = threading.Lock()


def new_trace_id() -> str:
    """A random-looking fbtrace_id (Meta's are 11-27 url-safe characters)."""
    with _trace_lock:
        return "A" + "".join(_trace_rng.choices(_TRACE_ALPHABET, k=22))


@dataclass
class GraphError(Exception):
    """An error answer: HTTP status plus Meta's error fields."""

    code: int
    message: str
    status: int = 400
    type: str = "OAuthException"
    subcode: int | None = None
    user_title: str | None = None
    user_msg: str | None = None
    is_transient: bool = False
    error_data: dict[str, Any] | None = None
    # extra HTTP headers for this error (e.g. WWW-Authenticate)
    headers: dict[str, str] = field(default_factory=dict)
    # emulator bookkeeping: which counter bucket a throttle belongs to
    throttle_kind: str | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)

    def body(self, trace_id: str | None = None) -> dict[str, Any]:
        err: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "code": self.code,
        }
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        err["is_transient"] = self.is_transient
        if self.user_title is not None:
            err["error_user_title"] = self.user_title
        if self.user_msg is not None:
            err["error_user_msg"] = self.user_msg
        if self.error_data is not None:
            err["error_data"] = self.error_data
        err["fbtrace_id"] = trace_id or new_trace_id()
        return {"error": err}


def invalid_parameter(
    subcode: int | None,
    title: str,
    msg: str,
    *,
    blame: str | None = None,
    message: str = "Invalid parameter",
) -> GraphError:
    """Meta's shape for ad-object validation errors (code 100)."""
    data = {"blame_field_specs": [[blame]]} if blame else None
    return GraphError(
        code=100,
        message=message,
        subcode=subcode,
        user_title=title,
        user_msg=msg,
        error_data=data,
    )


# --- versions and paths ------------------------------------------------------

def deprecated_version(latest: str) -> GraphError:
    return GraphError(
        code=2635,
        message=(
            "(#2635) You are calling a deprecated version of the Ads API. "
            f"Please update to the latest version: {latest}."
        ),
    )


def unversioned_call(latest: str) -> GraphError:
    # Meta: "unversioned calls are invalid" for Marketing API endpoints. The
    # exact answer is unconfirmed; the emulator uses the deprecated-version
    # code because that is what a client has to fix the same way.
    return GraphError(
        code=2635,
        message=(
            "(#2635) Unversioned calls to the Ads API are not supported. "
            f"Please call a versioned path, e.g. /{latest}/<id>."
        ),
    )


def unknown_version(version: str) -> GraphError:
    return GraphError(
        code=2500,
        message=f"Unknown path components: /{version}",
        type="OAuthException",
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(code=2500, message=f"Unknown path components: /{path}")


def multi_id_not_supported() -> GraphError:
    return GraphError(
        code=100,
        message=(
            "(#100) Multi-ID requests (?ids=) are not supported. Request each "
            "object by its own path, or combine requests in a batch."
        ),
        type="GraphMethodException",
    )


def unsupported_root(method: str) -> GraphError:
    return GraphError(
        code=100,
        message=f"Unsupported {method.lower()} request.",
        type="GraphMethodException",
    )


# --- auth ---------------------------------------------------------------------

def _www_auth(reason: str, desc: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'OAuth "Facebook Platform" "{reason}" "{desc}"'}


def missing_token() -> GraphError:
    msg = "An access token is required to request this resource."
    return GraphError(code=104, message=msg, headers=_www_auth("invalid_request", msg))


def invalid_token() -> GraphError:
    msg = "Invalid OAuth access token."
    return GraphError(code=190, subcode=467, message=msg, headers=_www_auth("invalid_token", msg))


def expired_token(expired_at: str) -> GraphError:
    msg = f"Error validating access token: Session has expired on {expired_at}."
    return GraphError(
        code=190,
        subcode=463,
        message=msg,
        user_title="Session Expired",
        user_msg="Your session has expired. Please get a new access token.",
        headers=_www_auth("invalid_token", "Session has expired"),
    )


def missing_appsecret_proof() -> GraphError:
    return GraphError(
        code=100,
        message="API calls from the server require an appsecret_proof argument",
        type="GraphMethodException",
    )


def invalid_appsecret_proof() -> GraphError:
    return GraphError(
        code=100,
        message="Invalid appsecret_proof provided in the API argument",
        type="GraphMethodException",
    )


def unsupported_request(method: str, object_id: str) -> GraphError:
    """Unknown id, or an id the token may not reach (Meta does not tell which)."""
    verb = "get" if method.upper() == "GET" else "post"
    return GraphError(
        code=100,
        subcode=33,
        type="GraphMethodException",
        message=(
            f"Unsupported {verb} request. Object with ID '{object_id}' does not "
            "exist, cannot be loaded due to missing permissions, or does not "
            "support this operation. Please read the Graph API documentation at "
            "https://developers.facebook.com/docs/graph-api"
        ),
    )


def nonexisting_field(field_name: str, node_type: str) -> GraphError:
    return GraphError(
        code=100,
        message=f"(#100) Tried accessing nonexisting field ({field_name}) on node type ({node_type})",
    )


def bad_param(message: str, *, blame: str | None = None) -> GraphError:
    return GraphError(
        code=100,
        message=f"(#100) {message}",
        error_data={"blame_field_specs": [[blame]]} if blame else None,
    )


# --- faults ---------------------------------------------------------------------

def transient(code: int) -> GraphError:
    if code == 1:
        msg = "An unknown error occurred"
    else:
        msg = "An unexpected error has occurred. Please retry your request later."
    return GraphError(code=code, message=msg, status=500, is_transient=True)


def too_many_batch_ops(maximum: int) -> GraphError:
    return GraphError(
        code=1,
        message=f"(#1) Too many requests in batch message. Maximum batch size is {maximum}",
    )
