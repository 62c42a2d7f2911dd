"""The exception hierarchy and the router's error envelope `{"error": {code, message, metadata}}`
(errors-and-debugging docs; spec schemas `*ResponseErrorData` and `ChatStreamChunk.error`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

# Messages the router itself uses (errors-and-debugging docs).
NO_AUTH_MESSAGE = "No auth credentials found"
BAD_KEY_MESSAGE = "User not found."

# HTTP status → `metadata.error_type`, the errors-and-debugging docs' "Typed error codes" table
# (values of spec enum ApiErrorType). 408, 524 and 529 are not in the table: they are the
# router's timeout and overload statuses, typed as the table types 504 and 503.
ERROR_TYPES: Mapping[int, str] = MappingProxyType(
    {
        400: "invalid_request",
        401: "authentication",
        402: "payment_required",
        403: "permission_denied",
        404: "not_found",
        408: "timeout",
        412: "precondition_failed",
        413: "payload_too_large",
        422: "unprocessable",
        429: "rate_limit_exceeded",
        500: "server",
        502: "provider_unavailable",
        503: "provider_overloaded",
        504: "timeout",
        524: "timeout",
        529: "provider_overloaded",
    }
)

# Every value of spec enum ApiErrorType, for checking a scripted `error_type`.
API_ERROR_TYPES: tuple[str, ...] = (
    "authentication",
    "content_policy_violation",
    "context_length_exceeded",
    "image_download_failed",
    "image_not_found",
    "image_too_large",
    "image_too_small",
    "invalid_image",
    "invalid_prompt",
    "invalid_request",
    "max_tokens_exceeded",
    "not_found",
    "payload_too_large",
    "payment_required",
    "permission_denied",
    "precondition_failed",
    "provider_overloaded",
    "provider_unavailable",
    "rate_limit_exceeded",
    "refusal",
    "server",
    "string_too_long",
    "timeout",
    "token_limit_exceeded",
    "unmapped",
    "unprocessable",
)


def error_type_for(status: int) -> str:
    """The `error_type` of an HTTP status: the documented table, else `invalid_request` for
    another 4xx and `unmapped` for anything else."""
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "invalid_request" if 400 <= status < 500 else "unmapped"


def error_metadata(status: int, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`{"error_type": <from the status>, ...metadata}`: scripted keys (error_type included)
    win over the derived one."""
    return {"error_type": error_type_for(status), **dict(metadata or {})}


def error_object(
    code: int,
    message: str,
    metadata: Mapping[str, Any] | None = None,
    availability: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The inner error `{"code", "message", "metadata", "availability"?}`; code = HTTP status,
    `metadata.error_type` always present (derived from `code` unless given)."""
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "metadata": error_metadata(code, metadata),
    }
    if availability is not None:
        error["availability"] = dict(availability)
    return error


def error_envelope(
    code: int, message: str, metadata: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The router's error body `{"error": {"code", "message", "metadata"}}` (see error_object)."""
    return {"error": error_object(code, message, metadata)}


class EmulatorError(Exception):
    """Base class of every error the emulator raises on purpose."""


class RequestError(EmulatorError):
    """A request the emulator answers with a 4xx in the router's envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.metadata = metadata
        self.headers = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        """This error in the router's envelope, `metadata.error_type` included."""
        return error_envelope(self.status, self.message, self.metadata)


class ScenarioError(EmulatorError):
    """A scenario file (or dict) that cannot be loaded; the message names `file:line`."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = message
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(where + message)


class GenerationError(EmulatorError):
    """Content that cannot be generated (e.g. a JSON Schema no value can satisfy)."""
