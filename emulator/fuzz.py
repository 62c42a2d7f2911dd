"""`stream.fuzz`: seeded random shapes of one well-formed stream, to test a client's SSE parser
against many of them. The text and tool calls a client rebuilds never change; only how they are
cut and framed does:

- content, reasoning and refusal deltas are cut at random character boundaries;
- each tool call's arguments are joined and cut again into random fragments (1 to 12 chars);
- keep-alive comments (`: OPENROUTER PROCESSING`) are placed between random events;
- every event's bytes go out in random writes (1 to 40 bytes, whole UTF-8 characters), so
  reads split lines anywhere.

The same seed gives the same bytes; the journal records the seed and every byte played. Pure.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from . import protocol
from .timeline import Event, Head, Send, Timeline
from .wirefaults import Item, is_fragment, items, to_timeline, with_fragment

TEXT_KEYS = ("content", "reasoning", "refusal")
COMMENT = "OPENROUTER PROCESSING"
COMMENT_ODDS = 0.25
MAX_WRITE = 40
MAX_FRAGMENT = 12


@dataclass(frozen=True)
class Fuzz:
    """`stream.fuzz`: `seed` None draws one per request from the request's seeded generator."""

    seed: int | None = None


def fuzz(timeline: Timeline, seed: int, eol: str = "\n") -> Timeline:
    """`timeline` reshaped at random under `seed` (see the module docstring)."""
    rng = random.Random(f"fuzz|{seed}")
    found = _text_pieces(items(timeline, eol), rng)
    found = _fragments(found, rng)
    found = _comments(found, rng, eol)
    return _writes(to_timeline(found, eol), rng)


def _text_delta(chunk: dict[str, Any]) -> str | None:
    """The key of a chunk whose one choice's delta is exactly one text key."""
    choices = chunk.get("choices") or []
    if len(choices) != 1 or not isinstance(choices[0], dict) or choices[0].get("finish_reason"):
        return None
    delta = choices[0].get("delta")
    if not isinstance(delta, dict) or len(delta) != 1:
        return None
    (key,) = delta
    return key if key in TEXT_KEYS and isinstance(delta[key], str) else None


def _cut(text: str, rng: random.Random, most: int) -> list[str]:
    pieces = []
    start = 0
    while start < len(text):
        size = rng.randint(1, most)
        pieces.append(text[start : start + size])
        start += size
    return pieces


def _text_pieces(found: list[Item], rng: random.Random) -> list[Item]:
    out: list[Item] = []
    for item in found:
        key = _text_delta(item.chunk) if item.chunk is not None else None
        if key is None or item.chunk is None:
            out.append(item)
            continue
        chunk = item.chunk
        text = chunk["choices"][0]["delta"][key]
        for piece in _cut(text, rng, max(1, len(text))) or [text]:
            choice = {**chunk["choices"][0], "delta": {key: piece}}
            out.append(Item(item.event, {**chunk, "choices": [choice]}))
    return out


def _fragments(found: list[Item], rng: random.Random) -> list[Item]:
    out: list[Item] = []
    pending: list[Item] = []

    def flush() -> None:
        if not pending:
            return
        first = pending[0].chunk
        assert first is not None
        whole = "".join(_arguments(p) for p in pending)
        out.extend(Item(pending[0].event, with_fragment(first, p)) for p in _cut(whole, rng, 12))
        pending.clear()

    for item in found:
        if item.chunk is not None and is_fragment(item.chunk):
            if pending and _index(pending[0]) != _index(item):
                flush()
            pending.append(item)
            continue
        flush()
        out.append(item)
    flush()
    return out


def _arguments(item: Item) -> str:
    assert item.chunk is not None
    return str(item.chunk["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"])


def _index(item: Item) -> Any:
    assert item.chunk is not None
    return item.chunk["choices"][0]["delta"]["tool_calls"][0].get("index")


def _comments(found: list[Item], rng: random.Random, eol: str) -> list[Item]:
    out: list[Item] = []
    started = False
    for item in found:
        if started and isinstance(item.event, Send) and rng.random() < COMMENT_ODDS:
            out.append(Item(Send(protocol.sse_comment(COMMENT, eol), "comment")))
        started = started or isinstance(item.event, Head)
        out.append(item)
    return out


def _writes(timeline: Timeline, rng: random.Random) -> Timeline:
    events: list[Event] = []
    for event in timeline.events:
        if not isinstance(event, Send):
            events.append(event)
            continue
        data, start = event.data, 0
        while start < len(data):
            end = start + rng.randint(1, MAX_WRITE)
            # Never inside a UTF-8 character: the journal records each write as text, exactly.
            while end < len(data) and data[end] & 0xC0 == 0x80:
                end += 1
            events.append(Send(data[start:end], event.kind))
            start = end
    return Timeline(tuple(events), stream=timeline.stream)
