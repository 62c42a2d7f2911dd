"""Hand-written (and recorded) stream timelines, `stream.events`: each event to its bytes, and
the stream faults that apply over them (error_after, disconnect_after, ttft_ms, keepalive,
interval_ms). Pure."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from emulator import protocol, tokens
from emulator.protocol import Completion
from emulator.scenario import Interval, KeepAlive, StreamEvent
from emulator.streambuilder import (
    StreamBuilder,
    add_wait,
    intervals,
    stop_before_piece,
    wait_with_keepalive,
)
from emulator.timeline import Drop, StreamDefaults
from emulator.usage import build_usage


def play_events(
    b: StreamBuilder, events: tuple[StreamEvent, ...], defaults: StreamDefaults
) -> Iterator[None]:
    """Add the timeline of hand-written `events` to `b`, with the stream faults over them,
    pausing after each event (and each wait the faults add)."""
    role_sent = False
    pace = _Pace(b, defaults)
    for event in events:
        if b.ended:
            return
        kind, value = event.kind, event.value
        if (kind in _PIECE_KINDS or kind == "done") and (
            yield from pace.before_piece(kind == "done")
        ):
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
        yield
    if not b.ended:
        yield from pace.before_piece(True)


# Events that count as a chunk for error_after / disconnect_after over a hand-written (or
# recorded) timeline.
_PIECE_KINDS = frozenset({"content", "reasoning", "refusal", "tool_call", "data"})


@dataclass
class _Pace:
    """The stream faults that apply over a hand-written or recorded timeline: error_after and
    disconnect_after (counting its chunks), and ttft_ms, keepalive and interval_ms, which, when
    given, replace the written waits before the first chunk and between chunks."""

    b: StreamBuilder
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
            add_wait(self.b, ms)

    def before_piece(self, final: bool) -> Generator[None, None, bool]:
        """Play the overlay's wait before a chunk (or the end), pausing after it; returns True
        when a fault ended the stream."""
        b, spec = self.b, self.b.spec
        if self._first_phase:
            keepalive = spec.keepalive or KeepAlive(self.defaults.keepalive_text, 0.0)
            total = spec.ttft_ms if spec.ttft_ms > 0 else self.held_ms
            yield from wait_with_keepalive(b, total, keepalive.text, keepalive.every_ms)
        elif self._paced and not final:
            if self.gaps is None:
                self.gaps = intervals(spec.interval, b.rng)
            add_wait(b, next(self.gaps))
        elif self.held_ms:
            add_wait(b, self.held_ms)
        self.held_ms = 0.0
        yield
        return stop_before_piece(b)


def _events_usage(b: StreamBuilder, given: dict[str, Any]) -> dict[str, Any]:
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
