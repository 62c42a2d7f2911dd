"""Named error presets: the router's documented error cases, ready to use from a scenario.

`error: insufficient_credits` (a string) or `error: {preset: rate_limited, message: ...}` (a preset
with overrides) in a scenario file; the same names work for in-stream errors (`stream.error`,
`stream.events[].error`), `choice_error` and `body_error`, which take only the inner `{code,
message, metadata}` object. Messages and metadata follow the router's errors-and-debugging docs
(typed `metadata.error_type`, `provider_code` for upstream errors) and the spec's example messages
per status (spec operation POST /chat/completions). The model-availability presets (one per
`error.availability.code`) follow the docs' "Model availability errors" table.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .scenario import ErrorBody, ErrorReply, RateLimit

RETRY_AFTER = {"Retry-After": "1"}
AVAILABILITY_DOCS = "https://openrouter.ai/docs/errors#"

_CREDITS_MESSAGE = (
    "This request requires more credits, or fewer max_tokens. You requested up to 32000 tokens,"
    " but can only afford 27342. To increase, visit https://openrouter.ai/settings/credits and"
    " upgrade to a paid account"
)
_MODERATION_MESSAGE = (
    "anthropic/claude-3.5-sonnet requires moderation on OpenAI. Your input was flagged for"
    ' "harassment". No credits were charged.'
)
_NO_PROVIDER_MESSAGE = (
    "No endpoints found matching your data policy (Free model publication)."
    " Configure: https://openrouter.ai/settings/privacy"
)
_CONTEXT_MESSAGE = (
    "This endpoint's maximum context length is 128000 tokens. However, you requested about"
    " 131072 tokens. Please reduce the length of either one, or use the context-compression"
    " plugin to compress your prompt automatically."
)


@dataclass(frozen=True)
class _Preset:
    status: int
    message: str
    metadata: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    availability: Mapping[str, Any] | None = None
    rate_limit: RateLimit | None = None


def _availability(
    status: int, code: str, message: str, retryable: bool = False, **extra: Any
) -> _Preset:
    """A model-availability error: `requested_models` is filled with the request's model when
    the response is built; `retry_after` (seconds) is also sent as Retry-After."""
    availability = {"code": code, "retryable": retryable, **extra}
    availability["docs_url"] = AVAILABILITY_DOCS + code
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else {}
    return _Preset(status, message, None, headers, availability)


_PRESETS: Mapping[str, _Preset] = MappingProxyType(
    {
        "bad_request": _Preset(400, "Invalid request parameters"),
        "context_length_exceeded": _Preset(
            400, _CONTEXT_MESSAGE, {"error_type": "context_length_exceeded"}
        ),
        "unauthorized": _Preset(401, "User not found."),
        "invalid_api_key": _Preset(401, "User not found."),
        "no_auth": _Preset(401, "No auth credentials found"),
        "insufficient_credits": _Preset(402, _CREDITS_MESSAGE),
        "moderation": _Preset(
            403,
            _MODERATION_MESSAGE,
            {
                "error_type": "content_policy_violation",
                "reasons": ["harassment"],
                "flagged_input": "you are a...idiot",
                "provider_name": "OpenAI",
                "model_slug": "anthropic/claude-3.5-sonnet",
            },
        ),
        "guardrail": _Preset(
            403,
            "Request blocked: prompt injection patterns detected",
            {"patterns": ["ignore all previous instructions"]},
        ),
        "not_found": _Preset(404, "No endpoints found for acme/not-a-model."),
        "timeout": _Preset(408, "Operation timed out. Please try again later."),
        "payload_too_large": _Preset(413, "Request payload too large"),
        "unprocessable": _Preset(422, "Invalid argument"),
        "rate_limited": _Preset(
            429, "Rate limit exceeded", None, RETRY_AFTER, None, RateLimit(20, 0, 60_000)
        ),
        "rate_limited_upstream": _Preset(
            429, "Provider returned error", {"provider_code": "rate_limited"}, RETRY_AFTER
        ),
        "server_error": _Preset(500, "Internal Server Error"),
        "provider_error": _Preset(502, "Provider returned error", {"provider_code": "INTERNAL"}),
        "no_provider": _Preset(503, _NO_PROVIDER_MESSAGE),
        "service_unavailable": _Preset(503, "Service temporarily unavailable"),
        "edge_timeout": _Preset(524, "Request timed out. Please try again later."),
        "overloaded": _Preset(
            529, "Provider returned error", {"provider_code": "overloaded_error"}
        ),
        # --- model availability (error.availability.code) ---
        "model_not_found": _availability(
            400, "model_not_found", "acme/not-a-model is not a valid model ID"
        ),
        "wrong_endpoint": _availability(
            400,
            "wrong_endpoint",
            "openai/text-embedding-3-small is an embeddings model; call /api/v1/embeddings",
        ),
        "no_endpoints": _availability(
            404, "no_endpoints", "No endpoints found for this model.", affected_providers=["OpenAI"]
        ),
        "model_deprecated": _availability(
            404,
            "model_deprecated",
            "This model has been deprecated.",
            fallback_models=["openai/gpt-4o-mini"],
        ),
        "model_unavailable_upstream": _availability(
            404, "model_unavailable_upstream", "The model is not available from its providers."
        ),
        "capacity_exhausted": _availability(
            429,
            "capacity_exhausted",
            "All providers for this model are at capacity. Please retry shortly.",
            True,
            retry_after=30,
        ),
        "temporarily_unavailable": _availability(
            503,
            "temporarily_unavailable",
            "This model is temporarily unavailable. Please retry shortly.",
            True,
        ),
        "region_restricted": _availability(
            403,
            "region_restricted",
            "This model is not available in your region.",
            excluded_by=["geo"],
        ),
        "privacy_restricted": _availability(
            404,
            "privacy_restricted",
            "No endpoints found matching your data policy.",
            excluded_by=["data_policy:training"],
        ),
        "constraint_filtered": _availability(
            404,
            "constraint_filtered",
            "No endpoints found that satisfy your request's constraints.",
            excluded_by=["max_price"],
            constraint={"field": "provider.max_price", "detail": "prompt price above 1"},
        ),
        "free_variant_ended": _availability(
            404,
            "free_variant_ended",
            "The free variant of this model is no longer available.",
            fallback_models=["meta-llama/llama-3.3-70b-instruct"],
        ),
    }
)

PRESET_NAMES: tuple[str, ...] = tuple(sorted(_PRESETS))
AVAILABILITY_PRESETS: tuple[str, ...] = tuple(
    sorted(name for name, p in _PRESETS.items() if p.availability is not None)
)


def _lookup(name: str) -> _Preset:
    try:
        return _PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown error preset {name!r}; valid presets: {', '.join(PRESET_NAMES)}"
        ) from None


def _copy(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return copy.deepcopy(dict(value)) if value is not None else None


def error_preset(name: str) -> ErrorReply:
    """The HTTP error of preset `name` (a fresh copy); ValueError listing the valid names."""
    preset = _lookup(name)
    return ErrorReply(
        status=preset.status,
        message=preset.message,
        metadata=_copy(preset.metadata),
        headers=dict(preset.headers),
        preset=name,
        availability=_copy(preset.availability),
        rate_limit=preset.rate_limit,
    )


def error_body_preset(name: str) -> ErrorBody:
    """The inner error object of preset `name`, for in-stream errors and choice errors."""
    preset = _lookup(name)
    return ErrorBody(
        code=preset.status,
        message=preset.message,
        metadata=_copy(preset.metadata),
        availability=_copy(preset.availability),
    )
