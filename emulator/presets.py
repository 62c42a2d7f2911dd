"""Named error presets: the router's documented error cases, ready to use from a scenario.

`error: insufficient_credits` (a string) or `error: {preset: rate_limited, message: ...}` (a preset
with overrides) in a scenario file; the same names work for in-stream errors (`stream.error`,
`stream.events[].error`) and for `choice_error`, which take only the inner `{code, message,
metadata}` object. Messages and metadata are modelled on the captured bodies in
PROTOCOL §5 and `protocol-examples/error_*.json`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .scenario import ErrorBody, ErrorReply

RETRY_AFTER = {"Retry-After": "1"}

_CREDITS_MESSAGE = (
    "This request requires more credits, or fewer max_tokens. You requested up to 32000 tokens,"
    " but can only afford 27342. To increase, visit https://openrouter.ai/settings/credits and"
    " upgrade to a paid account"
)
_MODERATION_MESSAGE = (
    "anthropic/claude-3.5-sonnet requires moderation on OpenAI. Your input was flagged for"
    ' "harassment". No credits were charged.'
)
_UPSTREAM_429_RAW = (
    "deepseek/deepseek-chat-v3-0324:free is temporarily rate-limited upstream. Please retry"
    " shortly, or add your own key to accumulate your rate limits:"
    " https://openrouter.ai/settings/integrations"
)
_PROVIDER_502_RAW = (
    '{"error":{"code":500,"message":"An internal error has occurred","status":"INTERNAL"}}'
)
_OVERLOADED_RAW = '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
_NO_PROVIDER_MESSAGE = (
    "No endpoints found matching your data policy (Free model publication)."
    " Configure: https://openrouter.ai/settings/privacy"
)


@dataclass(frozen=True)
class _Preset:
    status: int
    message: str
    metadata: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


_PRESETS: Mapping[str, _Preset] = MappingProxyType(
    {
        "bad_request": _Preset(400, "acme/not-a-model is not a valid model ID"),
        "unauthorized": _Preset(401, "User not found."),
        "invalid_api_key": _Preset(401, "User not found."),
        "no_auth": _Preset(401, "No auth credentials found"),
        "insufficient_credits": _Preset(402, _CREDITS_MESSAGE, {"provider_name": None}),
        "moderation": _Preset(
            403,
            _MODERATION_MESSAGE,
            {
                "reasons": ["harassment"],
                "flagged_input": "you are a...idiot",
                "provider_name": "OpenAI",
                "model_slug": "anthropic/claude-3.5-sonnet",
            },
        ),
        "not_found": _Preset(404, "No endpoints found for acme/not-a-model."),
        "timeout": _Preset(408, "Operation timed out. Please try again later."),
        "rate_limited": _Preset(429, "Rate limit exceeded", None, RETRY_AFTER),
        "rate_limited_upstream": _Preset(
            429,
            "Provider returned error",
            {"raw": _UPSTREAM_429_RAW, "provider_name": "Chutes"},
            RETRY_AFTER,
        ),
        "server_error": _Preset(500, "Internal Server Error"),
        "provider_error": _Preset(
            502,
            "Provider returned error",
            {"raw": _PROVIDER_502_RAW, "provider_name": "Google AI Studio"},
        ),
        "no_provider": _Preset(503, _NO_PROVIDER_MESSAGE),
        "overloaded": _Preset(
            529,
            "Provider returned error",
            {"raw": _OVERLOADED_RAW, "provider_name": "Anthropic"},
        ),
    }
)

PRESET_NAMES: tuple[str, ...] = tuple(sorted(_PRESETS))


def _lookup(name: str) -> _Preset:
    try:
        return _PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown error preset {name!r}; valid presets: {', '.join(PRESET_NAMES)}"
        ) from None


def error_preset(name: str) -> ErrorReply:
    """The HTTP error of preset `name` (a fresh copy); ValueError listing the valid names."""
    preset = _lookup(name)
    return ErrorReply(
        status=preset.status,
        message=preset.message,
        metadata=copy.deepcopy(dict(preset.metadata)) if preset.metadata is not None else None,
        headers=dict(preset.headers),
        preset=name,
    )


def error_body_preset(name: str) -> ErrorBody:
    """The inner error object of preset `name`, for in-stream errors and choice errors."""
    preset = _lookup(name)
    metadata = copy.deepcopy(dict(preset.metadata)) if preset.metadata is not None else None
    return ErrorBody(code=preset.status, message=preset.message, metadata=metadata)
