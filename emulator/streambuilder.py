"""The builder a stream's timeline is accumulated in, and the waits and faults every stream
shares (ttft with keep-alive comments, intervals, error_after and disconnect_after). Pure."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator import protocol
from emulator.protocol import Completion
from emulator.scenario import MAX_KEEPALIVES, ErrorBody, Interval, StreamSpec
from emulator.timeline import DEFAULT_STREAM_ERROR, Close, Drop, Event, Send, Wait, error_body


@dataclass
class StreamBuilder:
    """Accumulates a stream's events while tracking content chunks for the shortcuts.

    `events` is what was made and not yet handed on: a lazy stream takes them out as it goes
    (`streams.stream_response`), so `last_data` and `stall_late`, which cut back into them,
    serve only a stream built whole."""

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


def stop_before_piece(b: StreamBuilder, at_end: bool = False) -> bool:
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


def add_wait(b: StreamBuilder, ms: float) -> None:
    """Append a wait of `ms` milliseconds (none for 0)."""
    if ms > 0:
        b.events.append(Wait(ms))


def wait_with_keepalive(
    b: StreamBuilder, total_ms: float, text: str, every_ms: float
) -> Iterator[None]:
    """Wait `total_ms`, sending the keep-alive comment every `every_ms` meanwhile; after
    MAX_KEEPALIVES comments (a server-wide period under a huge ttft) the rest is one wait.
    A step of a lazy stream (see `streams.stream_response`): it pauses after each wait, so
    each comment is made when its wait is over."""
    if every_ms <= 0:
        add_wait(b, total_ms)
        return
    waited = 0.0
    sent = 0
    while total_ms - waited > every_ms and sent < MAX_KEEPALIVES:
        sent += 1
        b.events.append(Wait(every_ms))
        yield
        b.comment(text)
        waited += every_ms
    add_wait(b, total_ms - waited)


def intervals(interval: Interval, rng: random.Random) -> Iterator[float]:
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
