"""A completion and the reply's `stream` block → the SSE timeline (generated or hand-written
events, with the stream faults on top). Pure: jitter comes from the request's seeded generator."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping

from emulator import protocol
from emulator.deltas import content_chunks, finish_choice
from emulator.protocol import Completion
from emulator.scenario import StreamSpec
from emulator.streambuilder import (
    StreamBuilder,
    add_wait,
    intervals,
    stop_before_piece,
    wait_with_keepalive,
)
from emulator.streamevents import play_events
from emulator.timeline import Close, Event, Head, StreamDefaults, Timeline, Wait


def stream_response(
    completion: Completion,
    spec: StreamSpec | None,
    defaults: StreamDefaults,
    rng: random.Random,
    delay_ms: float = 0.0,
    extra_headers: Mapping[str, str] | None = None,
) -> Timeline:
    """The SSE timeline of `completion`, shaped by the reply's `stream` block; `extra_headers`
    (the reply's `headers`) replace or add to the default ones.

    The events after the head are made as the writer plays them (`Timeline.play`): each chunk
    serialised, and each interval drawn from `rng`, when the one before it has gone out, in
    the order a whole build makes them, so the bytes and the schedule are the same. Only
    `framing.stall_after` builds the stream whole here: a stall past the last data event cuts
    back into it. Code that reads `events` (stream faults, fuzz) gets the whole tuple."""
    spec = spec or StreamSpec()
    b = StreamBuilder(completion, spec, rng)
    own = {"X-Generation-Id": completion.id, **dict(extra_headers or {})}
    head = Head(200, (*protocol.SSE_HEADERS, *own.items()))
    first: tuple[Event, ...] = (Wait(delay_ms), head) if delay_ms > 0 else (head,)
    if spec.events is not None:
        steps = play_events(b, spec.events, defaults)
    else:
        steps = play_generated(b, defaults)
    framing = spec.framing
    coalesce = framing.split_every is None and framing.stall_after is None
    if framing.stall_after is None:
        return Timeline(first, stream=True, coalesce=coalesce, rest=_made(b, steps))
    for _ in steps:
        pass
    b.stall_late()
    if not b.ended:
        b.events.append(Close())
    return Timeline((*first, *b.events), stream=True, coalesce=coalesce)


def _made(b: StreamBuilder, steps: Iterator[None]) -> Iterator[Event]:
    """The events `steps` add to `b`, handed on after each step, then the Close."""
    made = b.events  # emptied as it is handed on (the builder only appends to it)
    for _ in steps:
        if len(made) == 1:  # the common step: one wait or one chunk
            yield made.pop()
        elif made:
            yield from made
            made.clear()
    yield from made
    if not b.ended:
        yield Close()


def play_generated(b: StreamBuilder, defaults: StreamDefaults) -> Iterator[None]:
    """Add a generated stream's events to `b`, pausing after each wait and each chunk."""
    spec, completion = b.spec, b.completion
    keep_text = spec.keepalive.text if spec.keepalive else defaults.keepalive_text
    keep_every = spec.keepalive.every_ms if spec.keepalive else defaults.keepalive_ms
    b.comment(keep_text)
    yield from wait_with_keepalive(b, spec.ttft_ms, keep_text, keep_every)
    gaps = intervals(spec.interval, b.rng)
    for is_piece, choice_json in content_chunks(completion, spec):
        if is_piece and b.pieces_sent > 0:
            add_wait(b, next(gaps))
            yield
        if (is_piece or b.data_events == 0) and stop_before_piece(b):
            return
        b.data_text(
            completion.chunk_text(choice_json if isinstance(choice_json, str) else [choice_json])
        )
        if b.ended:
            return
        b.pieces_sent += is_piece
        yield
    # A stream shorter than error_after/disconnect_after (max_tokens, stop, a template) still
    # gets its error or disconnect: after the last content chunk, instead of the finish chunk.
    if stop_before_piece(b, at_end=True) or b.ended:
        return
    finish = [finish_choice(completion, c) for c in completion.choices]
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
