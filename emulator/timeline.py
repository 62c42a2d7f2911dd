"""Every response, streaming or not, compiles to a timeline of wire events that one writer
plays: Head (status and headers), Send (bytes: a body, a data event, a comment, raw bytes),
Wait (relative; the writer turns waits into absolute deadlines), Close, Drop (end abruptly).

The streaming shortcuts of a scenario (chunking, ttft, intervals, keepalive, error_after,
disconnect_after, framing) are sugar that builds the same timeline `stream.events` writes by hand.
Pure: no I/O, no clock; jitter comes from the request's seeded generator.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator import logprobs, protocol, tokens
from emulator.protocol import Completion
from emulator.scenario import (
    MAX_KEEPALIVES,
    Chunking,
    ErrorBody,
    ErrorReply,
    Fault,
    Interval,
    KeepAlive,
    StreamEvent,
    StreamSpec,
)
from emulator.usage import build_usage


@dataclass(frozen=True)
class Head:
    status: int
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Send:
    data: bytes
    kind: str  # body | data | comment | done | error | raw


@dataclass(frozen=True)
class Wait:
    """A pause of `ms` milliseconds. The server's time scale multiplies it unless `scaled` is
    False: the waits of `fault: hang` and `framing.stall_ms` exist to make a client time out,
    so a fast suite (time scale 0.1 or 0) still sees them whole."""

    ms: float
    scaled: bool = True


@dataclass(frozen=True)
class Close:
    """Finish the response normally (the chunked terminator for a stream)."""


@dataclass(frozen=True)
class Drop:
    """End the connection abruptly: a TCP reset, or a plain close with no terminator."""

    reset: bool = False


Event = Head | Send | Wait | Close | Drop


@dataclass(frozen=True)
class Timeline:
    events: tuple[Event, ...]
    stream: bool = False
    # Whole SSE events due at the same instant may share one write (no framing fault asks
    # for each piece on its own).
    coalesce: bool = False

    @property
    def status(self) -> int | None:
        return next((e.status for e in self.events if isinstance(e, Head)), None)


@dataclass(frozen=True)
class StreamDefaults:
    """Server-wide defaults a reply's `stream` block may override."""

    usage_chunk: str = "empty_choices"
    keepalive_text: str = "OPENROUTER PROCESSING"
    keepalive_ms: float = 0.0


# The default mid-stream error (errors-and-debugging docs "Mid-stream errors"): a provider that
# went away after the first token; metadata becomes {"error_type": "provider_unavailable"}.
DEFAULT_STREAM_ERROR = ErrorBody(502, "Provider returned error")


# --- JSON, errors and faults -----------------------------------------------------------------


def json_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None, delay_ms: float = 0.0
) -> Timeline:
    data = protocol.dumps(body).encode()
    head = (("Content-Type", protocol.JSON_CONTENT_TYPE), *dict(headers or {}).items())
    events: list[Event] = [Wait(delay_ms)] if delay_ms > 0 else []
    events += [Head(status, head), Send(data, "body"), Close()]
    return Timeline(tuple(events))


def completion_response(
    completion: Completion, delay_ms: float = 0.0, headers: Mapping[str, str] | None = None
) -> Timeline:
    head = {"X-Generation-Id": completion.id, **dict(headers or {})}
    return json_response(200, completion.to_json(), head, delay_ms)


def body_response(
    status: int, body: str, headers: Mapping[str, str] | None = None, delay_ms: float = 0.0
) -> Timeline:
    """A JSON response whose body is given as exact text (a recorded or exported reply)."""
    head = (("Content-Type", protocol.JSON_CONTENT_TYPE), *dict(headers or {}).items())
    events: list[Event] = [Wait(delay_ms)] if delay_ms > 0 else []
    events += [Head(status, head), Send(body.encode(), "body"), Close()]
    return Timeline(tuple(events))


def error_response(
    error: ErrorReply,
    model: str | None = None,
    created: int = 0,
    router_metadata: Mapping[str, Any] | None = None,
) -> Timeline:
    """An HTTP error in the router's envelope (errors-and-debugging docs): `metadata.error_type`
    always, `availability` with `requested_models` filled with `model` when the reply leaves it
    out, X-RateLimit-* headers for the router's own 429 (Reset: `created` s + the window, in unix
    ms), and `openrouter_metadata` beside `error` when given."""
    body: dict[str, Any] = {"error": error_body(error.inner(), model)}
    if router_metadata is not None:
        body["openrouter_metadata"] = dict(router_metadata)
    headers = dict(error.headers)
    if error.rate_limit is not None:
        limit = error.rate_limit
        headers.setdefault("X-RateLimit-Limit", str(limit.limit))
        headers.setdefault("X-RateLimit-Remaining", str(limit.remaining))
        headers.setdefault("X-RateLimit-Reset", str(created * 1000 + limit.reset_ms))
    return json_response(error.status, body, headers, error.delay_ms)


def error_body(error: ErrorBody, model: str | None = None) -> dict[str, Any]:
    """The inner error object of `error`, an availability error's `requested_models` filled
    with `model` when the scenario leaves it out."""
    out = error.to_json()
    availability = out.get("availability")
    if isinstance(availability, dict) and model and not availability.get("requested_models"):
        keys = list(availability)
        availability["requested_models"] = [model]
        # The docs' order: code, retryable, retry_after?, requested_models, ..., docs_url
        order = [k for k in keys if k in ("code", "retryable", "retry_after")]
        order += ["requested_models"] + [k for k in keys if k not in order]
        out["availability"] = {k: availability[k] for k in order}
    return out


def fault_response(fault: Fault) -> Timeline:
    if fault.kind == "reset":
        return Timeline((Drop(reset=True),))
    if fault.kind == "empty":
        return Timeline((Drop(reset=False),))
    if fault.kind == "hang":
        return Timeline((Wait(fault.max_ms, scaled=False), Drop(reset=False)))
    body = (fault.body if fault.body is not None else '{"id": "gen-broken", "choices": [').encode()
    head = (("Content-Type", protocol.JSON_CONTENT_TYPE),)
    return Timeline((Head(200, head), Send(body, "body"), Close()))


# --- cutting text into deltas ------------------------------------------------------------------

_WORD = re.compile(r"\s*\S+")


def split_text(text: str, chunking: Chunking) -> list[str]:
    """Cut `text` into deltas that join back to exactly `text`."""
    if not text:
        return []
    size = max(1, chunking.size)
    if chunking.kind == "none":
        return [text]
    if chunking.kind == "chars":
        units = list(text)
    elif chunking.kind == "lines":
        units = text.splitlines(keepends=True)
    elif chunking.kind == "tokens":
        units = _token_units(text)
    else:
        units = _WORD.findall(text)
        tail = text[len("".join(units)) :]
        if tail:  # trailing white space belongs to the last word
            units = units[:-1] + [units[-1] + tail] if units else [tail]
    return ["".join(units[i : i + size]) for i in range(0, len(units), size)]


def _token_units(text: str) -> list[str]:
    """One unit per o200k token, merging tokens that only together form whole UTF-8 characters."""
    units: list[str] = []
    pending = b""
    enc = tokens.encoding()
    for token in enc.encode_ordinary(text):
        pending += enc.decode_single_token_bytes(token)
        try:
            units.append(pending.decode("utf-8"))
            pending = b""
        except UnicodeDecodeError:
            continue
    return units


# --- streams -----------------------------------------------------------------------------------


@dataclass
class _Builder:
    """Accumulates a stream's events while tracking content chunks for the shortcuts."""

    completion: Completion
    spec: StreamSpec
    rng: random.Random
    events: list[Event] = field(default_factory=list)
    pieces_sent: int = 0
    data_events: int = 0
    ended: bool = False
    # Where the latest data event starts in `events`, its bytes and kind (for a late stall).
    last_data: tuple[int, bytes, str] | None = None
    output: list[str] = field(default_factory=list)  # hand-written events: the text sent
    reasoning: list[str] = field(default_factory=list)
    finish_sent: str | None = None

    def sent_text(self, kind: str, delta: Mapping[str, Any]) -> None:
        """Record the text of a hand-written delta, for the usage it reports."""
        if kind == "tool_call":
            function = delta["tool_calls"][0].get("function") or {}
            self.output += [function.get("name") or "", function.get("arguments") or ""]
            return
        self.output.append(str(delta[kind]))
        if kind == "reasoning":
            self.reasoning.append(str(delta[kind]))

    @property
    def eol(self) -> str:
        return self.spec.framing.line_ending

    def send(self, data: bytes, kind: str) -> None:
        framing = self.spec.framing
        if kind in ("data", "error", "done"):
            self.data_events += 1
            if framing.stall_after is not None and self.data_events == framing.stall_after:
                self._split(data[: max(1, len(data) // 2)], kind)
                self.events += [Wait(framing.stall_ms, scaled=False), Drop(reset=False)]
                self.ended = True
                return
            self.last_data = (len(self.events), data, kind)
        self._split(data, kind)

    def stall_late(self) -> None:
        """`stall_after` beyond the stream's data events (a stream shortened by max_tokens, stop
        or a template) still stalls: on the last data event, like `error_after`."""
        framing = self.spec.framing
        if framing.stall_after is None or self.ended or self.last_data is None:
            return
        start, data, kind = self.last_data
        del self.events[start:]
        self._split(data[: max(1, len(data) // 2)], kind)
        self.events += [Wait(framing.stall_ms, scaled=False), Drop(reset=False)]
        self.ended = True

    def _split(self, data: bytes, kind: str) -> None:
        step = self.spec.framing.split_every
        if not step:
            self.events.append(Send(data, kind))
            return
        self.events += [Send(data[i : i + step], kind) for i in range(0, len(data), step)]

    def data(self, payload: Mapping[str, Any], kind: str = "data") -> None:
        self.data_text(protocol.dumps(payload), kind)

    def data_text(self, json_text: str, kind: str = "data") -> None:
        self.send(protocol.sse_data(json_text, self.eol), kind)

    def comment(self, text: str) -> None:
        self.send(protocol.sse_comment(text, self.eol), "comment")

    def done(self) -> None:
        self.send(protocol.sse_data(protocol.DONE, self.eol), "done")
        if self.spec.framing.duplicate_done and not self.ended:
            self.send(protocol.sse_data(protocol.DONE, self.eol), "done")

    def error(self, error: ErrorBody | Mapping[str, Any]) -> None:
        body = (
            error_body(error, self.completion.model)
            if isinstance(error, ErrorBody)
            else dict(error)
        )
        self.data(self.completion.error_chunk(body), "error")


def stream_response(
    completion: Completion,
    spec: StreamSpec | None,
    defaults: StreamDefaults,
    rng: random.Random,
    delay_ms: float = 0.0,
    extra_headers: Mapping[str, str] | None = None,
) -> Timeline:
    """The SSE timeline of `completion`, shaped by the reply's `stream` block; `extra_headers`
    (the reply's `headers`) replace or add to the default ones."""
    spec = spec or StreamSpec()
    b = _Builder(completion, spec, rng)
    if delay_ms > 0:
        b.events.append(Wait(delay_ms))
    own = {"X-Generation-Id": completion.id, **dict(extra_headers or {})}
    headers = (*protocol.SSE_HEADERS, *own.items())
    b.events.append(Head(200, headers))
    if spec.events is not None:
        _play_events(b, spec.events, defaults)
    else:
        _play_generated(b, defaults)
    b.stall_late()
    if not b.ended:
        b.events.append(Close())
    framing = spec.framing
    coalesce = framing.split_every is None and framing.stall_after is None
    return Timeline(tuple(b.events), stream=True, coalesce=coalesce)


def _play_generated(b: _Builder, defaults: StreamDefaults) -> None:
    spec, completion = b.spec, b.completion
    keep_text = spec.keepalive.text if spec.keepalive else defaults.keepalive_text
    keep_every = spec.keepalive.every_ms if spec.keepalive else defaults.keepalive_ms
    b.comment(keep_text)
    _wait_with_keepalive(b, spec.ttft_ms, keep_text, keep_every)
    gaps = _intervals(spec.interval, b.rng)
    for is_piece, choice_json in _content_chunks(completion, spec):
        if is_piece and b.pieces_sent > 0:
            _wait(b, next(gaps))
        if (is_piece or b.data_events == 0) and _stop_before_piece(b):
            return
        b.data_text(completion.chunk_text([choice_json]))
        if b.ended:
            return
        b.pieces_sent += is_piece
    # A stream shorter than error_after/disconnect_after (max_tokens, stop, a template) still
    # gets its error or disconnect: after the last content chunk, instead of the finish chunk.
    if _stop_before_piece(b, at_end=True) or b.ended:
        return
    finish = [_finish_choice(completion, c) for c in completion.choices]
    usage = completion.usage_chunk(spec.usage_chunk or defaults.usage_chunk)
    if usage is None and completion.router_metadata is not None:
        # No usage chunk: the finish chunk is the final one and carries the router metadata.
        b.data({**completion.chunk(finish), "openrouter_metadata": completion.router_metadata})
    else:
        b.data_text(completion.chunk_text(finish))
    if usage is not None:
        b.data(usage)
    if spec.done and not b.ended:
        b.done()


def _stop_before_piece(b: _Builder, at_end: bool = False) -> bool:
    """Apply error_after / disconnect_after once that many content chunks have been sent (or,
    `at_end`, when the content ran out first)."""
    spec = b.spec
    sent = b.pieces_sent if not at_end else 1 << 62
    if spec.disconnect_after is not None and sent >= spec.disconnect_after:
        b.events.append(Drop(reset=False))
        b.ended = True
        return True
    if spec.error_after is not None and sent >= spec.error_after:
        b.error(spec.error or DEFAULT_STREAM_ERROR)
        if spec.done and not b.ended:
            b.done()
        if not b.ended:
            b.events.append(Close())
        b.ended = True
        return True
    return False


def _wait(b: _Builder, ms: float) -> None:
    if ms > 0:
        b.events.append(Wait(ms))


def _wait_with_keepalive(b: _Builder, total_ms: float, text: str, every_ms: float) -> None:
    """Wait `total_ms`, sending the keep-alive comment every `every_ms` meanwhile; after
    MAX_KEEPALIVES comments (a server-wide period under a huge ttft) the rest is one wait."""
    if every_ms <= 0:
        _wait(b, total_ms)
        return
    waited = 0.0
    sent = 0
    while total_ms - waited > every_ms and sent < MAX_KEEPALIVES:
        sent += 1
        b.events.append(Wait(every_ms))
        b.comment(text)
        waited += every_ms
    _wait(b, total_ms - waited)


def _intervals(interval: Interval, rng: random.Random) -> Iterator[float]:
    """The gap before each content chunk after the first: fixed, seeded jitter, or listed."""
    i = 0
    while True:
        if interval.per_chunk:
            yield interval.per_chunk[min(i, len(interval.per_chunk) - 1)]
        elif interval.min_ms is not None and interval.max_ms is not None:
            yield rng.uniform(interval.min_ms, interval.max_ms)
        else:
            yield interval.ms
        i += 1


def _content_chunks(
    completion: Completion, spec: StreamSpec
) -> Iterator[tuple[bool, dict[str, Any]]]:
    """Round-robin over the choices: (is a content piece, choice delta). Each choice starts
    with its role delta, which is not a piece (error_after and intervals count pieces)."""
    per_choice = [list(_choice_deltas(c, spec)) for c in completion.choices]
    longest = max((len(d) for d in per_choice), default=0)
    for step in range(longest):
        for choice, deltas in zip(completion.choices, per_choice, strict=False):
            if step < len(deltas):
                delta, logprobs = deltas[step]
                yield step > 0, completion.delta_choice(choice.index, delta, logprobs=logprobs)


def piece_count(choices: Iterable[protocol.Choice], spec: StreamSpec) -> int:
    """How many content pieces (deltas after each choice's role delta) a stream of `choices`
    sends: what `error_after` and `disconnect_after` count."""
    return sum(len(list(_choice_deltas(c, spec))) - 1 for c in choices)


Delta = tuple[dict[str, Any], "list[dict[str, Any]] | None"]


def _choice_deltas(choice: protocol.Choice, spec: StreamSpec) -> Iterator[Delta]:
    """The deltas of one choice with the logprobs entries each carries: role first (only
    there), reasoning then its reasoning_details, content (or refusal), annotations and images,
    then tool calls as docs/wire-format.md says (a full header, then index + argument
    fragments)."""
    split = spec.chunking
    calls = list(choice.tool_calls)
    first: dict[str, Any] = {"role": "assistant", "content": ""}
    if choice.content is None:
        first["content"] = None
        if choice.refusal is not None:
            first["refusal"] = ""
        if calls and choice.reasoning is None:
            first["tool_calls"] = [_tool_header(0, calls[0])]
    yield first, ([] if choice.logprobs is not None else None)
    for piece in split_text(choice.reasoning or "", split):
        yield {"reasoning": piece}, None
    for detail in choice.reasoning_details:
        yield {"reasoning_details": [dict(detail)]}, None
    if choice.content:
        pieces = (
            list(spec.chunks)
            if spec.chunks is not None
            and choice.index == 0
            and "".join(spec.chunks) == choice.content
            else split_text(choice.content, split)
        )
        per_piece = (
            logprobs.split_by_pieces(list(choice.logprobs), pieces)
            if choice.logprobs is not None
            else [None] * len(pieces)
        )
        for piece, entries in zip(pieces, per_piece, strict=True):
            yield {"content": piece}, entries
    for piece in split_text(choice.refusal or "", split):
        yield {"refusal": piece}, None
    if choice.annotations:
        yield {"annotations": [dict(a) for a in choice.annotations]}, None
    if choice.images:
        yield {"images": choice.images_json()}, None
    for index, call in enumerate(calls):
        if index > 0 or "tool_calls" not in first:
            yield {"tool_calls": [_tool_header(index, call)]}, None
        for piece in split_text(call.arguments, split):
            yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}, None


def _tool_header(index: int, call: protocol.ToolCall) -> dict[str, Any]:
    return {
        "index": index,
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }


def _finish_choice(completion: Completion, choice: protocol.Choice) -> dict[str, Any]:
    out = completion.delta_choice(
        choice.index, {}, choice.finish_reason, choice.native_finish_reason
    )
    if choice.error is not None:
        out["error"] = choice.error
    return out


# --- hand-written timelines (`stream.events`) --------------------------------------------------


def _play_events(b: _Builder, events: tuple[StreamEvent, ...], defaults: StreamDefaults) -> None:
    role_sent = False
    pace = _Pace(b, defaults)
    for event in events:
        if b.ended:
            return
        kind, value = event.kind, event.value
        if (kind in _PIECE_KINDS or kind == "done") and pace.before_piece(kind == "done"):
            return
        if kind == "comment":
            b.comment(str(value))
        elif kind == "wait_ms":
            pace.wait(float(value))
        elif kind in ("content", "reasoning", "refusal", "tool_call"):
            delta = _event_delta(kind, value)
            b.sent_text(kind, delta)
            if not role_sent:
                delta = {"role": "assistant", **delta}
                role_sent = True
            b.data_text(b.completion.chunk_text([b.completion.delta_choice(0, delta)]))
        elif kind == "data":
            b.data_text(str(value))
        elif kind == "raw":
            b.send(value if isinstance(value, bytes) else str(value).encode(), "raw")
        elif kind == "error":
            b.error(value)
        elif kind == "finish":
            reason = str(value)
            b.finish_sent = reason
            native = protocol.native_finish_reason(b.completion.provider, reason)
            b.data_text(b.completion.chunk_text([b.completion.delta_choice(0, {}, reason, native)]))
        elif kind == "usage":
            usage = _events_usage(b, dict(value or {}))
            shape = b.spec.usage_chunk or defaults.usage_chunk
            chunk = _with_usage(b.completion, shape, usage)
            if chunk is not None:
                b.data(chunk)
        elif kind == "done":
            if value is not False:
                b.done()
        elif kind == "disconnect" and value is not False:
            b.events.append(Drop(reset=value == "reset"))
            b.ended = True
        if kind in _PIECE_KINDS:
            b.pieces_sent += 1
    if not b.ended:
        pace.before_piece(True)


# Events that count as a chunk for error_after / disconnect_after over a hand-written (or
# recorded) timeline.
_PIECE_KINDS = frozenset({"content", "reasoning", "refusal", "tool_call", "data"})


@dataclass
class _Pace:
    """The stream faults that apply over a hand-written or recorded timeline: error_after and
    disconnect_after (counting its chunks), and ttft_ms, keepalive and interval_ms, which, when
    given, replace the written waits before the first chunk and between chunks."""

    b: _Builder
    defaults: StreamDefaults
    held_ms: float = 0.0
    gaps: Iterator[float] | None = None

    @property
    def _first_phase(self) -> bool:
        spec = self.b.spec
        return self.b.pieces_sent == 0 and (spec.ttft_ms > 0 or spec.keepalive is not None)

    @property
    def _paced(self) -> bool:
        return self.b.pieces_sent > 0 and self.b.spec.interval != Interval()

    def wait(self, ms: float) -> None:
        if self._first_phase or self._paced:
            self.held_ms += ms  # replaced by the overlay's own wait before the next chunk
        else:
            _wait(self.b, ms)

    def before_piece(self, final: bool) -> bool:
        """Play the overlay's wait before a chunk (or the end); True when a fault ended it."""
        b, spec = self.b, self.b.spec
        if self._first_phase:
            keepalive = spec.keepalive or KeepAlive(self.defaults.keepalive_text, 0.0)
            total = spec.ttft_ms if spec.ttft_ms > 0 else self.held_ms
            _wait_with_keepalive(b, total, keepalive.text, keepalive.every_ms)
        elif self._paced and not final:
            if self.gaps is None:
                self.gaps = _intervals(spec.interval, b.rng)
            _wait(b, next(self.gaps))
        elif self.held_ms:
            _wait(b, self.held_ms)
        self.held_ms = 0.0
        return _stop_before_piece(b)


def _events_usage(b: _Builder, given: dict[str, Any]) -> dict[str, Any]:
    """The usage a hand-written stream reports: the tokens of the deltas it sent so far (a
    scripted `usage` event overrides any key), priced like a generated reply."""
    return build_usage(
        b.completion.usage["prompt_tokens"],
        tokens.count("".join(b.output)),
        tokens.count("".join(b.reasoning)),
        pricing=b.completion.pricing,
        finish_reason=b.finish_sent,
        given=given,
    )


def _event_delta(kind: str, value: Any) -> dict[str, Any]:
    if kind != "tool_call":
        return {kind: str(value)}
    # The loader fills absent keys with None: None means "not in this delta" (docs/wire-format.md,
    # tool-call deltas: a later delta carries only index and an argument fragment, never id or
    # name again).
    spec = {k: v for k, v in dict(value).items() if v is not None}
    call: dict[str, Any] = {"index": int(spec.get("index", 0))}
    if "id" in spec:
        call["id"] = spec["id"]
    if "id" in spec or "name" in spec:
        call["type"] = "function"
    function: dict[str, Any] = {}
    if "name" in spec:
        function["name"] = spec["name"]
    if "arguments" in spec:
        args = spec["arguments"]
        function["arguments"] = args if isinstance(args, str) else protocol.dumps(args)
    elif "name" in spec:
        function["arguments"] = ""
    if function:
        call["function"] = function
    return {"tool_calls": [call]}


def _with_usage(completion: Completion, shape: str, usage: dict[str, Any]) -> dict[str, Any] | None:
    chunk = completion.usage_chunk(shape)
    if chunk is not None:
        chunk["usage"] = usage
    return chunk
