"""Timeline compilation, pure: chunking, waits, shortcuts, framing, determinism."""

from __future__ import annotations

import random

import pytest

from emulator import deltas, streams, timeline
from emulator.protocol import Choice, Completion, ToolCall
from emulator.scenario import Chunking, ErrorBody, Fault, Framing, Interval, KeepAlive, StreamSpec
from emulator.timeline import Close, Drop, Head, Send, Wait

TEXT = "Once upon a time, in 北京 there lived a 🦊."


def completion(content: str | None = TEXT, calls: tuple[ToolCall, ...] = ()) -> Completion:
    finish = "tool_calls" if calls else "stop"
    return Completion(
        "gen-1-x",
        1,
        "m/x",
        "OpenAI",
        (Choice(0, content, finish, finish, tool_calls=calls),),
        {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    )


def stream(spec: StreamSpec, c: Completion | None = None) -> timeline.Timeline:
    return streams.stream_response(
        c or completion(), spec, timeline.StreamDefaults(), random.Random(1)
    )


def sends(t: timeline.Timeline, kind: str | None = None) -> list[bytes]:
    return [e.data for e in t.events if isinstance(e, Send) and (kind is None or e.kind == kind)]


@pytest.mark.parametrize(
    "kind,size",
    [
        ("words", 1),
        ("words", 3),
        ("chars", 1),
        ("chars", 5),
        ("tokens", 1),
        ("tokens", 2),
        ("lines", 1),
        ("none", 1),
    ],
)
def test_split_text_joins_back(kind: str, size: int) -> None:
    """Every chunking rule cuts text into pieces that join back exactly."""
    text = TEXT + "\nsecond line\n"
    pieces = deltas.split_text(text, Chunking(kind, size))
    assert "".join(pieces) == text and all(pieces)


def test_words_keep_leading_space() -> None:
    """Word chunks carry their leading space, as real deltas do."""
    assert deltas.split_text("Once upon a time", Chunking("words")) == [
        "Once",
        " upon",
        " a",
        " time",
    ]


def test_token_chunks_never_split_a_character() -> None:
    """Token chunking merges tokens until they form whole UTF-8 characters."""
    for piece in deltas.split_text("🦊🦊 北京", Chunking("tokens")):
        piece.encode("utf-8")  # a lone surrogate or replacement would not round-trip
        assert "\ufffd" not in piece


def test_ttft_and_intervals_become_waits() -> None:
    """ttft before the first data event, the interval between content chunks, none elsewhere."""
    t = stream(
        StreamSpec(chunks=("a", "b", "c"), ttft_ms=400, interval=Interval(ms=25)), completion("abc")
    )
    kinds = [type(e).__name__ if not isinstance(e, Send) else e.kind for e in t.events]
    assert kinds == [
        "Head",
        "comment",
        "Wait",
        "data",
        "data",
        "Wait",
        "data",
        "Wait",
        "data",
        "data",
        "data",
        "done",
        "Close",
    ]
    assert [e.ms for e in t.events if isinstance(e, Wait)] == [400, 25, 25]


def test_jitter_is_seeded() -> None:
    """{min, max} jitter comes from the seeded generator: same seed, same schedule."""
    spec = StreamSpec(chunking=Chunking("chars"), interval=Interval(min_ms=10, max_ms=60))
    first, second = stream(spec), stream(spec)
    waits = [e.ms for e in first.events if isinstance(e, Wait)]
    assert waits == [e.ms for e in second.events if isinstance(e, Wait)]
    assert all(10 <= w <= 60 for w in waits) and len(set(waits)) > 1


def test_keepalive_repeats_during_ttft() -> None:
    """keepalive every_ms sends comments while the first chunk is pending."""
    t = stream(StreamSpec(ttft_ms=350, keepalive=KeepAlive("PING", 100)))
    assert sends(t, "comment") == [b": PING\n\n"] * 4
    assert sum(e.ms for e in t.events if isinstance(e, Wait)) == 350


def test_error_after_ends_with_error_and_done() -> None:
    """error_after N: N content chunks, the in-band error, [DONE]; no finish or usage chunk."""
    t = stream(
        StreamSpec(chunks=("a", "b", "c"), error_after=2, error=ErrorBody(502, "boom")),
        completion("abc"),
    )
    data = sends(t)
    assert data[-2].startswith(b'data: {"id":"gen-1-x","object":"chat.completion.chunk"')
    assert (
        b'"error":{"code":502,"message":"boom","metadata":{"error_type":"provider_unavailable"}}'
        in data[-2]
    )
    assert data[-1] == b"data: [DONE]\n\n"
    assert len(sends(t, "data")) == 3  # role + two pieces
    assert isinstance(t.events[-1], Close)


def test_error_after_zero_is_the_only_event() -> None:
    """error_after 0: the error can be the first and only data event."""
    t = stream(StreamSpec(error_after=0, done=False))
    assert [e.kind for e in t.events if isinstance(e, Send)] == ["comment", "error"]


def test_disconnect_after_drops_without_terminator() -> None:
    """disconnect_after N: N content chunks, then the connection closes with no [DONE]."""
    t = stream(StreamSpec(chunks=("a", "b", "c"), disconnect_after=1), completion("abc"))
    assert isinstance(t.events[-1], Drop) and not t.events[-1].reset
    assert b"[DONE]" not in b"".join(sends(t))


def test_framing_line_endings_and_split() -> None:
    """CRLF framing and split_every write every event in pieces of N bytes."""
    t = stream(StreamSpec(framing=Framing(line_ending="\r\n", split_every=7)))
    pieces = sends(t)
    assert all(len(p) <= 7 for p in pieces)
    body = b"".join(pieces)
    assert body.startswith(b": OPENROUTER PROCESSING\r\n\r\n") and body.endswith(
        b"data: [DONE]\r\n\r\n"
    )


def test_stall_after_sends_half_then_drops() -> None:
    """stall_after N sends half of data event N, waits (bounded), then drops."""
    t = stream(StreamSpec(framing=Framing(stall_after=2, stall_ms=50)))
    assert isinstance(t.events[-1], Drop) and t.events[-2] == Wait(50, scaled=False)
    assert not sends(t)[-1].endswith(b"\n\n")


def test_duplicate_done() -> None:
    """duplicate_done sends [DONE] twice."""
    assert (
        sends(stream(StreamSpec(framing=Framing(duplicate_done=True))), "done")
        == [b"data: [DONE]\n\n"] * 2
    )


def test_no_done() -> None:
    """done: false ends the stream without [DONE]."""
    assert sends(stream(StreamSpec(done=False)), "done") == []


def test_tool_call_arguments_are_chunked() -> None:
    """Argument fragments follow the chunking rule and carry only index + arguments."""
    calls = (ToolCall("call_1", "f", '{"city":"Paris"}'),)
    t = stream(StreamSpec(chunking=Chunking("chars", 4)), completion(None, calls))
    data = [d for d in sends(t, "data") if b'"arguments"' in d]
    assert b'"id":"call_1"' in data[0] and all(b"call_1" not in d for d in data[1:])
    assert len(data) == 1 + 4  # header + ceil(16 / 4) fragments


@pytest.mark.parametrize(
    "kind,events",
    [
        ("reset", [Drop(reset=True)]),
        ("empty", [Drop(reset=False)]),
        ("hang", [Wait(1000, scaled=False), Drop(reset=False)]),
    ],
)
def test_faults(kind: str, events: list[object]) -> None:
    """Faults compile to drops (and a bounded wait for hang)."""
    assert list(timeline.fault_response(Fault(kind, max_ms=1000)).events) == events


def test_malformed_json_fault() -> None:
    """malformed_json: a 200 JSON response whose body does not parse."""
    t = timeline.fault_response(Fault("malformed_json"))
    assert isinstance(t.events[0], Head) and t.events[0].status == 200
    assert sends(t) and isinstance(t.events[-1], Close)


def test_server_keepalive_under_huge_ttft_is_bounded() -> None:
    """A server-wide keep-alive period under a huge ttft compiles to a bounded timeline."""
    from emulator.scenario import MAX_KEEPALIVES

    spec = StreamSpec(ttft_ms=10**9)
    t = streams.stream_response(
        completion(), spec, timeline.StreamDefaults(keepalive_ms=1), random.Random(1)
    )
    assert len(sends(t, "comment")) == MAX_KEEPALIVES + 1  # + the one right after the headers
    assert sum(e.ms for e in t.events if isinstance(e, Wait)) == 10**9
