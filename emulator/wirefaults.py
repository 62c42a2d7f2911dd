"""First-class stream faults: the broken shapes clients meet in the wild, one key each under a
reply's `stream.faults`, plus the `error_only` fault (a 200 whose only content is an error
envelope). Each rewrites the compiled timeline of a well-formed stream. Pure: no I/O.

The rewrites work on whole SSE events (the loader refuses `faults` beside `framing.split_every`
or `framing.stall_after`, which cut events apart).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import protocol
from .presets import error_body_preset
from .scenario import ErrorBody, Fault
from .timeline import Close, Event, Head, Send, Timeline

FAULT_KEYS = (
    "no_tool_call_index",
    "colliding_tool_call_index",
    "duplicate_tool_call_header",
    "empty_arguments",
    "arguments_split_mid_escape",
    "comment_as_data",
    "no_finish_reason",
    "empty_choices_chunk",
    "missing_chunk_fields",
    "duplicate_role",
)
CHUNK_FIELDS = ("id", "created", "model", "object", "provider")
DEFAULT_ERROR_ONLY = "provider_error"


@dataclass(frozen=True)
class StreamFaults:
    """Which faults a stream carries (`stream.faults`); every one off by default.

    - no_tool_call_index: tool-call deltas carry no `index`;
    - colliding_tool_call_index: every tool call of a choice streams on index 0;
    - duplicate_tool_call_header: each tool call's header delta (index, id, type, name) is
      sent twice, the copy in a chunk of its own right after the first;
    - empty_arguments: each tool call's `arguments` is sent as "" and nothing more;
    - arguments_split_mid_escape: argument fragments end right after each backslash of the
      arguments text (inside `\\"` or `\\uXXXX`), so no fragment but the whole is valid JSON;
    - comment_as_data: every SSE comment line `: TEXT` goes out as a data line `data: : TEXT`;
    - no_finish_reason: no chunk carries a finish_reason (the finish-only chunk is dropped);
    - empty_choices_chunk: a chunk with `choices: []` right after the first content chunk;
    - missing_chunk_fields: these top-level fields (id, created, ...) are left out of chunks;
    - duplicate_role: the chunk after the role delta repeats `role: "assistant"`.
    """

    no_tool_call_index: bool = False
    colliding_tool_call_index: bool = False
    duplicate_tool_call_header: bool = False
    empty_arguments: bool = False
    arguments_split_mid_escape: bool = False
    comment_as_data: bool = False
    no_finish_reason: bool = False
    empty_choices_chunk: bool = False
    missing_chunk_fields: tuple[str, ...] = ()
    duplicate_role: bool = False

    def __bool__(self) -> bool:
        return any(getattr(self, key) for key in FAULT_KEYS)


# --- SSE events as data ------------------------------------------------------------------------


@dataclass
class Item:
    """One SSE event of a timeline: a data chunk (`chunk` parsed), or anything else (`event`)."""

    event: Event
    chunk: dict[str, Any] | None = None


def items(timeline: Timeline, eol: str) -> list[Item]:
    """The timeline's events, each whole data event with its JSON parsed (None for [DONE] and
    for data that is not a JSON object)."""
    out = []
    for event in timeline.events:
        chunk = None
        if isinstance(event, Send) and event.kind == "data":
            text = event.data.decode()
            if text.startswith("data: ") and text.endswith(eol * 2):
                try:
                    parsed = json.loads(text[len("data: ") : -len(eol) * 2])
                except ValueError:
                    parsed = None
                chunk = parsed if isinstance(parsed, dict) else None
        out.append(Item(event, chunk))
    return out


def to_timeline(found: list[Item], eol: str, stream: bool = True) -> Timeline:
    """The timeline of `found` (chunks serialised again)."""
    events: list[Event] = []
    for item in found:
        if item.chunk is not None:
            events.append(Send(protocol.sse_data(protocol.dumps(item.chunk), eol), "data"))
        else:
            events.append(item.event)
    return Timeline(tuple(events), stream=stream)


def calls_of(chunk: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every tool-call delta of a chunk."""
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if isinstance(delta, dict):
            yield from (c for c in delta.get("tool_calls") or () if isinstance(c, dict))


def is_fragment(chunk: dict[str, Any]) -> bool:
    """A chunk whose only delta is one tool call's argument fragment (no id, no name)."""
    choices = chunk.get("choices") or []
    if len(choices) != 1 or not isinstance(choices[0], dict):
        return False
    delta = choices[0].get("delta") or {}
    calls = delta.get("tool_calls") or []
    return (
        set(delta) == {"tool_calls"}
        and len(calls) == 1
        and "id" not in calls[0]
        and set(calls[0].get("function") or {}) == {"arguments"}
    )


def with_fragment(chunk: dict[str, Any], piece: str) -> dict[str, Any]:
    """A copy of fragment chunk `chunk` carrying `piece` as its arguments."""
    choice = chunk["choices"][0]
    call = choice["delta"]["tool_calls"][0]
    new_call = {**call, "function": {"arguments": piece}}
    return {**chunk, "choices": [{**choice, "delta": {"tool_calls": [new_call]}}]}


# --- the faults ----------------------------------------------------------------------------------


def apply(timeline: Timeline, faults: StreamFaults, eol: str = "\n") -> Timeline:
    """`timeline` with `faults` applied."""
    found = items(timeline, eol)
    if faults.empty_arguments or faults.arguments_split_mid_escape:
        found = _arguments(found, faults.empty_arguments)
    if faults.duplicate_tool_call_header:
        found = _repeat_headers(found)
    if faults.no_tool_call_index or faults.colliding_tool_call_index:
        for item in found:
            for call in calls_of(item.chunk or {}):
                if faults.no_tool_call_index:
                    call.pop("index", None)
                else:
                    call["index"] = 0
    if faults.no_finish_reason:
        found = _no_finish(found)
    if faults.duplicate_role or faults.empty_choices_chunk:
        found = _after_role(found, faults)
    if faults.missing_chunk_fields:
        for item in found:
            for key in faults.missing_chunk_fields:
                (item.chunk or {}).pop(key, None)
    if faults.comment_as_data:
        found = [_comment_as_data(item, eol) for item in found]
    return to_timeline(found, eol)


def _arguments(found: list[Item], empty: bool) -> list[Item]:
    if not empty:
        return _merge_fragments(found)
    # The header's "" is all the call's arguments: every fragment goes.
    return [i for i in found if i.chunk is None or not is_fragment(i.chunk)]


def _merge_fragments(found: list[Item]) -> list[Item]:
    """Join consecutive fragments of one call, then cut them again right after backslashes."""
    out: list[Item] = []
    pending: list[Item] = []

    def flush() -> None:
        if pending:
            first = pending[0].chunk
            assert first is not None
            whole = "".join(
                (p.chunk or {})["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                for p in pending
            )
            out.extend(
                Item(pending[0].event, with_fragment(first, p)) for p in split_after_escapes(whole)
            )
            pending.clear()

    for item in found:
        if item.chunk is not None and is_fragment(item.chunk):
            index = item.chunk["choices"][0]["delta"]["tool_calls"][0].get("index")
            if pending and pending[0].chunk is not None:
                first_index = pending[0].chunk["choices"][0]["delta"]["tool_calls"][0].get("index")
                if first_index != index:
                    flush()
            pending.append(item)
            continue
        flush()
        out.append(item)
    flush()
    return out


def _repeat_headers(found: list[Item]) -> list[Item]:
    """After each chunk announcing tool calls (deltas with an `id`), a chunk repeating those
    announcements (same index, id, type and name; arguments "")."""
    out: list[Item] = []
    for item in found:
        out.append(item)
        chunk = item.chunk
        if chunk is None:
            continue
        choices = []
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            headers = [
                {**call, "function": {**(call.get("function") or {}), "arguments": ""}}
                for call in calls_of({"choices": [choice]})
                if "id" in call
            ]
            if headers:
                rest = {k: v for k, v in choice.items() if k != "delta"}
                choices.append({**rest, "delta": {"tool_calls": headers}})
        if choices:
            top = {k: v for k, v in chunk.items() if k not in ("choices", "usage")}
            out.append(Item(item.event, {**top, "choices": choices}))
    return out


def split_after_escapes(text: str) -> list[str]:
    """`text` cut right after every backslash that starts an escape (and after `\\u` + two hex
    digits), so each cut falls inside an escape; the pieces join back to `text`."""
    pieces: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            pieces.append(text[start : i + 1])
            start = i + 1
            if text[i + 1] == "u" and i + 4 <= len(text):
                pieces.append(text[start : i + 4])
                start = i + 4
                i += 4
                continue
            i += 2
            continue
        i += 1
    pieces.append(text[start:])
    return [p for p in pieces if p]


def _no_finish(found: list[Item]) -> list[Item]:
    out: list[Item] = []
    for item in found:
        chunk = item.chunk
        if chunk is not None and chunk.get("choices"):
            choices = chunk["choices"]
            finish_only = (
                all(
                    isinstance(c, dict) and not c.get("delta") and c.get("finish_reason")
                    for c in choices
                )
                and "usage" not in chunk
            )
            if finish_only:
                continue
            for c in choices:
                if isinstance(c, dict) and "finish_reason" in c:
                    c["finish_reason"] = None
                    c["native_finish_reason"] = None
        out.append(item)
    return out


def _after_role(found: list[Item], faults: StreamFaults) -> list[Item]:
    out: list[Item] = []
    role_at: int | None = None
    for item in found:
        chunk = item.chunk
        out.append(item)
        if chunk is None or not chunk.get("choices"):
            continue
        delta = chunk["choices"][0].get("delta") if isinstance(chunk["choices"][0], dict) else None
        if role_at is None and isinstance(delta, dict) and "role" in delta:
            role_at = len(out) - 1
            continue
        if role_at is not None and role_at == len(out) - 2 and isinstance(delta, dict):
            if faults.duplicate_role:
                chunk["choices"][0]["delta"] = {"role": "assistant", **delta}
            if faults.empty_choices_chunk:
                empty = {k: v for k, v in chunk.items() if k not in ("choices", "usage")}
                out.append(Item(item.event, {**empty, "choices": []}))
    return out


def _comment_as_data(item: Item, eol: str) -> Item:
    event = item.event
    if isinstance(event, Send) and event.kind == "comment":
        line = event.data.decode().rstrip("\r\n")
        return Item(Send(f"data: {line}{eol}{eol}".encode(), "data"))
    return item


# --- a 200 that is only an error -----------------------------------------------------------------


def error_only_body(fault: Fault) -> ErrorBody:
    """The error of an `error_only` fault (its own, else the provider_error preset)."""
    return fault.error or error_body_preset(DEFAULT_ERROR_ONLY)


def error_only_response(fault: Fault, stream: bool) -> Timeline:
    """A 200 whose only content is the error envelope `{"error": {...}}`: a JSON body, or (for
    a streaming request) an SSE stream whose only event is that envelope as a data line, with
    no [DONE]. The router's errors-and-debugging docs: errors after the 200 went out arrive in
    the body."""
    envelope = protocol.dumps({"error": error_only_body(fault).to_json()})
    if not stream:
        head = (("Content-Type", protocol.JSON_CONTENT_TYPE),)
        return Timeline((Head(200, head), Send(envelope.encode(), "body"), Close()))
    events = (Head(200, protocol.SSE_HEADERS), Send(protocol.sse_data(envelope), "error"), Close())
    return Timeline(events, stream=True)
