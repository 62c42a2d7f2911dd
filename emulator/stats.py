"""Generation stats (PROTOCOL §10): `GET /v1/generation?id=<id>` answered from the journal.

The router's own endpoint: same Bearer auth as chat completions, `{"data": {...}}`, 404 in the
error envelope for an id it never served (or one whose response has not finished yet).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from emulator import tokens
from emulator.errors import RequestError
from emulator.handlers import EMULATOR, check_auth
from emulator.journal import JournalEntry

FIRST_BYTE_KINDS = ("data", "body")


def add_routes(app: web.Application) -> None:
    """Register the endpoint under both of the router's prefixes (create_app does)."""
    for prefix in ("/v1", "/api/v1"):
        app.router.add_get(f"{prefix}/generation", generation)


async def generation(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR]
    check_auth(request, emulator)
    generation_id = request.query.get("id", "").strip()
    if not generation_id:
        raise RequestError(400, "missing required query parameter 'id' (a generation id)")
    entry = emulator.journal.find_generation(generation_id)
    if entry is None or entry.completion is None:
        raise RequestError(404, f"generation {generation_id!r} not found")
    if not entry.finished or entry.duration_ms is None:
        raise RequestError(
            404,
            f"generation {generation_id!r} has not finished yet; its stats are available "
            "once its response has ended",
        )
    return web.json_response({"data": generation_stats(entry)})


def generation_stats(entry: JournalEntry) -> dict[str, Any]:
    """Every PROTOCOL §10 field in its order, from what the journal recorded; what the emulator
    has no notion of (moderation, media, search, routing, workspaces) is 0 or null."""
    completion: Mapping[str, Any] = entry.completion or {}
    usage: Mapping[str, Any] = completion.get("usage") or {}
    body: Mapping[str, Any] = entry.body if isinstance(entry.body, dict) else {}
    prompt = int(usage.get("prompt_tokens") or 0)
    output = int(usage.get("completion_tokens") or 0)
    finish = _first(completion.get("finish_reasons"))
    native = _first(completion.get("native_finish_reasons"))
    played = played_stream(entry)
    if played is not None:  # a stream cut short: report what the client was actually sent
        output, finish, native = played
    return {
        "id": entry.generation_id,
        "model": completion.get("model"),
        "created_at": _iso(completion.get("created", entry.started_at)),
        "streamed": entry.stream,
        "cancelled": entry.client_aborted,
        "finish_reason": finish,
        "native_finish_reason": native,
        "tokens_prompt": prompt,
        "tokens_completion": output,
        # The emulator counts with one tokenizer: native and normalised counts are the same.
        "native_tokens_prompt": prompt,
        "native_tokens_completion": output,
        "native_tokens_reasoning": _detail(usage, "completion_tokens_details", "reasoning_tokens"),
        "native_tokens_cached": _detail(usage, "prompt_tokens_details", "cached_tokens"),
        "generation_time": round(entry.duration_ms or 0.0),
        "latency": _latency(entry),
        "moderation_latency": None,
        "provider_name": completion.get("provider"),
        # A scenario may script a cost (usage.cost); the emulator itself charges nothing.
        "total_cost": _cost(usage),
        "usage": _cost(usage),
        "upstream_id": None,
        "request_id": None,
        "api_type": "completions",
        "origin": entry.headers.get("origin", ""),
        "http_referer": entry.headers.get("http-referer") or entry.headers.get("referer"),
        "user_agent": entry.headers.get("user-agent", ""),
        "external_user": _text(body.get("user")),
        "is_byok": usage.get("is_byok") is True,
        **dict.fromkeys(_COUNTS, 0),
        "cache_discount": None,
        "service_tier": None,
        "session_id": _text(body.get("session_id")),
        **dict.fromkeys(_UNKNOWN, None),
    }


_COUNTS = (
    "num_media_prompt",
    "num_media_completion",
    "num_input_audio_prompt",
    "num_search_results",
    "num_fetches",
)
_UNKNOWN = ("router", "app_id", "preset_id", "provider_responses", "data_region", "workspace_id")


def played_stream(entry: JournalEntry) -> tuple[int, str | None, str | None] | None:
    """(completion tokens, finish reason, native finish reason) of what a stream actually sent,
    when it did not play in full (an in-band error, a disconnect, a client that went away);
    None for a response that played as planned."""
    if not entry.stream:
        return None
    events = _sse_payloads(entry)
    errored = any(isinstance(e, dict) and e.get("error") for e in events)
    if entry.outcome == "completed" and not errored:
        return None
    text: list[str] = []
    finish = native = None
    for event in events:
        for choice in event.get("choices") or [] if isinstance(event, dict) else []:
            delta = choice.get("delta") or {}
            text += [delta.get(k) or "" for k in ("content", "reasoning", "refusal")]
            for call in delta.get("tool_calls") or []:
                function = call.get("function") or {}
                text += [function.get("name") or "", function.get("arguments") or ""]
            finish = choice.get("finish_reason") or finish
            native = choice.get("native_finish_reason") or native
    return tokens.count("".join(text)), ("error" if errored else finish), native


def _sse_payloads(entry: JournalEntry) -> list[Any]:
    """The JSON payloads of the data events played (pieces of split events joined again)."""
    raw = "".join(e.data for e in entry.events if e.kind in ("data", "error"))
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    payloads: list[Any] = []
    for event in raw.split("\n\n"):
        if event.startswith("data: "):
            try:
                payloads.append(json.loads(event[len("data: ") :]))
            except ValueError:
                continue  # a raw or half-sent event
    return payloads


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _latency(entry: JournalEntry) -> int | None:
    """Milliseconds until the first byte of content (a chunk or the JSON body); None if none
    was sent before the client hung up."""
    first = next((e for e in entry.events if e.kind in FIRST_BYTE_KINDS), None)
    return None if first is None else round(first.t_ms)


def _iso(unix_time: float) -> str:
    return datetime.fromtimestamp(unix_time, timezone.utc).isoformat()


def _first(values: Any) -> Any:
    return values[0] if isinstance(values, list) and values else None


def _cost(usage: Mapping[str, Any]) -> float:
    cost = usage.get("cost")
    return cost if isinstance(cost, (int, float)) and not isinstance(cost, bool) else 0


def _detail(usage: Mapping[str, Any], group: str, key: str) -> int:
    details = usage.get(group)
    value = details.get(key) if isinstance(details, Mapping) else None
    return int(value) if isinstance(value, (int, float)) else 0
