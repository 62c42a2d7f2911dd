"""Generation stats as the router reports them (spec schema GenerationResponse), built from
what the journal recorded a response actually sent. Pure: no aiohttp, no clock.

Cost follows the serving model's catalog prices (see `pricing.compute_cost`): a response that
played in full reports its `usage.cost` when it has one (scripted or computed), otherwise the
cost of the tokens it sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from emulator import tokens
from emulator.catalog import Catalog
from emulator.journal import JournalEntry
from emulator.pricing import TokenUsage, compute_cost

FIRST_BYTE_KINDS = ("data", "body")


def generation_stats(entry: JournalEntry, catalog: Catalog) -> dict[str, Any]:
    """`GET /generation`'s `data`: every field of the spec's GenerationResponse, from what the
    journal recorded; what the emulator has no notion of (moderation, media, search,
    workspaces) is 0 or null. Costs in USD, times in ms."""
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
    cost = generation_cost(entry, catalog)
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
        "native_tokens_completion_images": 0,
        "generation_time": round(entry.duration_ms or 0.0),
        "latency": _latency(entry),
        "moderation_latency": None,
        "provider_name": completion.get("provider"),
        "total_cost": cost,
        "usage": cost,
        # Only a BYOK generation has an upstream cost of its own (usage-accounting docs).
        "upstream_inference_cost": None,
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
        "router": completion.get("router"),
        "provider_responses": completion.get("provider_responses"),
        "web_search_engine": None,
        "data_region": "global",
        **dict.fromkeys(_UNKNOWN, None),
    }


_COUNTS = (
    "num_media_prompt",
    "num_media_completion",
    "num_input_audio_prompt",
    "num_search_results",
    "num_fetches",
)
_UNKNOWN = ("app_id", "preset_id", "workspace_id")


def played_stream(entry: JournalEntry) -> tuple[int, str | None, str | None] | None:
    """(completion tokens, finish reason, native finish reason) of what a stream actually sent,
    when it did not play in full (an in-band error, a disconnect, a client that went away) or
    was written by hand (`stream.events`: a finish reason never sent is reported as null, not
    `stop`); None for a generated response that played as planned."""
    if not entry.stream:
        return None
    scripted = bool((entry.completion or {}).get("scripted_events"))
    if entry.outcome == "completed" and not scripted and not _may_carry_error(entry):
        return None  # the common case, decided without parsing every chunk again
    events = _sse_payloads(entry)
    errored = any(isinstance(e, dict) and e.get("error") for e in events)
    if entry.outcome == "completed" and not errored and not scripted:
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


def _may_carry_error(entry: JournalEntry) -> bool:
    """Whether any played data event could be an error envelope: one with an `error` key has
    the JSON text `"error"` (a string inside content would have its quotes escaped)."""
    return '"error"' in _data_text(entry)


def _data_text(entry: JournalEntry) -> str:
    """The played data and error events' text, in order (split pieces joined again)."""
    return "".join(e.data for e in entry.events if e.kind in ("data", "error"))


def _sse_payloads(entry: JournalEntry) -> list[Any]:
    """The JSON payloads of the data events played (pieces of split events joined again)."""
    raw = _data_text(entry).replace("\r\n", "\n").replace("\r", "\n")
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


def generation_cost(entry: JournalEntry, catalog: Catalog) -> float:
    """What a served generation cost (USD): its `usage.cost` when it played in full and has
    one, else the serving model's catalog prices applied to the tokens actually sent."""
    completion: Mapping[str, Any] = entry.completion or {}
    usage: Mapping[str, Any] = completion.get("usage") or {}
    played = played_stream(entry)
    scripted = usage.get("cost")
    if played is None and isinstance(scripted, (int, float)) and not isinstance(scripted, bool):
        return float(scripted)
    output, finish = (
        int(usage.get("completion_tokens") or 0),
        _first(completion.get("finish_reasons")),
    )
    if played is not None:
        output, finish = played[0], played[1]
    counts = TokenUsage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=output,
        reasoning_tokens=_detail(usage, "completion_tokens_details", "reasoning_tokens"),
        cached_tokens=_detail(usage, "prompt_tokens_details", "cached_tokens"),
    )
    model = str(completion.get("model") or "")
    pricing = completion.get("pricing") or catalog.pricing_for(model)  # the serving endpoint's
    return compute_cost(pricing, counts, finish).cost


def _detail(usage: Mapping[str, Any], group: str, key: str) -> int:
    details = usage.get(group)
    value = details.get(key) if isinstance(details, Mapping) else None
    return int(value) if isinstance(value, (int, float)) else 0
