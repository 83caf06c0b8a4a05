"""One exception hierarchy for everything fbcm reports to a user.

Each class maps to an exit code at the CLI edge: errors raised before any write are usage or
configuration problems (exit 2); problems with single rows or objects never raise, they become
outcomes in the plan or the apply result (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass


class FbcmError(Exception):
    """Base class: the message is meant for the user and says what to do."""

    exit_code = 2


class UsageError(FbcmError):
    """Flags, environment or files given to fbcm are wrong."""


class ConfigError(FbcmError):
    """An `fbcm` meta block in the dbt project is invalid."""


class ArtifactError(FbcmError):
    """manifest.json / run_results.json are missing, unreadable or of an unsupported version."""


class DbtError(FbcmError):
    """dbt itself failed: profile, target, selection or an invocation."""


class WarehouseError(FbcmError):
    """Rows of a model could not be read from the warehouse."""


class PlanFileError(FbcmError):
    """A saved plan cannot be applied as it is."""


class TransportError(FbcmError):
    """Meta's API could not be reached or answered with something that is not the Graph API."""


@dataclass(frozen=True)
class MetaErrorDetail:
    """What Meta said about a failed call, as the fields of its `error` object."""

    message: str
    code: int | None = None
    subcode: int | None = None
    error_type: str | None = None
    user_title: str | None = None
    user_message: str | None = None
    fbtrace_id: str | None = None
    is_transient: bool = False
    http_status: int | None = None

    def describe(self) -> str:
        code = f"#{self.code}" if self.code is not None else "error"
        if self.subcode:
            code += f"/{self.subcode}"
        text = self.user_message or self.message
        trace = f" (fbtrace_id {self.fbtrace_id})" if self.fbtrace_id else ""
        return f"Meta {code}: {text}{trace}"


class MetaApiError(FbcmError):
    """A Graph API call failed with an error object."""

    def __init__(self, detail: MetaErrorDetail):
        super().__init__(detail.describe())
        self.detail = detail


class AuthError(MetaApiError):
    """The token is missing, invalid, expired or lacks permissions: no call can succeed."""
