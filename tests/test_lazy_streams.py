"""Lazy streams: a stream's events made as the writer plays them give the same bytes, writes and
schedule as the same timeline made whole first, and only the first events are made before the
first byte."""

from __future__ import annotations

import random
from typing import Any

import pytest
import rawsse
from aiohttp import web

from emulator import protocol, streams
from emulator.journal import JournalEntry
from emulator.protocol import Choice, Completion
from emulator.scenario import Chunking, Framing, Interval, KeepAlive, StreamEvent, StreamSpec
from emulator.testing import EmulatorServer
from emulator.timeline import Send, StreamDefaults, Timeline

FIFTY = " ".join(f"w{i}" for i in range(50))
HAND_WRITTEN = [
    {"comment": "OPENROUTER PROCESSING"},
    {"wait_ms": 12},
    {"content": "Hel"},
    {"wait_ms": 7},
    {"content": "lo"},
    {"raw": "data: {not json\n\n"},
    {"tool_call": {"index": 0, "id": "call_1", "name": "f", "arguments": "{}"}},
    {"finish": "tool_calls"},
    {"usage": {}},
    {"done": True},
]
WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object"}},
}
# name: (reply, extra request body): a spread of what a stream can be asked to do.
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "default": ({}, {}),
    "fifty-jitter": ({"content": FIFTY, "stream": {"interval_ms": {"min": 1, "max": 9}}}, {}),
    "ttft-keepalive": (
        {
            "content": "a b c d",
            "stream": {"ttft_ms": 35, "keepalive": {"every_ms": 10}, "interval_ms": 3},
        },
        {},
    ),
    "per-chunk": ({"content": "a b c d e", "stream": {"interval_ms": [1, 2, 3]}}, {}),
    "tools": (
        {
            "tool_calls": [
                {"name": "get_weather", "arguments": '{"city": "Paris"}', "id": "call_a"},
                {"name": "get_weather", "arguments": '{"city": "Oslo"}', "id": "call_b"},
            ],
            "stream": {"chunking": {"chars": 4}, "interval_ms": {"min": 1, "max": 5}},
        },
        {"tools": [WEATHER]},
    ),
    "n2-reasoning": (
        {"content": "one two three", "reasoning": "think a bit", "stream": {"interval_ms": 2}},
        {"n": 2},
    ),
    "n3-generated": ({"stream": {"interval_ms": {"min": 0, "max": 4}}}, {"n": 3}),
    "usage-openrouter": ({"content": "a b", "stream": {"usage_chunk": "openrouter"}}, {}),
    "usage-none-no-done": (
        {"content": "a b", "stream": {"usage_chunk": "none", "done": False}},
        {},
    ),
    "tokens-utf8": (
        {"content": "Grüße aus 北京 🦊", "stream": {"chunking": {"tokens": 1}}},
        {},
    ),
    "error-after": (
        {"content": FIFTY, "stream": {"error_after": 5, "interval_ms": {"min": 1, "max": 3}}},
        {},
    ),
    "error-after-at-end": ({"content": "a b", "stream": {"error_after": 2}}, {}),
    "disconnect-after": ({"content": FIFTY, "stream": {"disconnect_after": 7}}, {}),
    "split-every": (
        {"content": "Grüße aus 北京 🦊", "stream": {"framing": {"split_every": 5}}},
        {},
    ),
    "stall-after": (
        {"content": "a b", "stream": {"framing": {"stall_after": 3, "stall_ms": 1}}},
        {},
    ),
    "crlf-duplicate-done": (
        {
            "content": "One two",
            "stream": {"framing": {"line_ending": "\r\n", "duplicate_done": True}},
        },
        {},
    ),
    "delay": ({"content": "a b c", "delay_ms": 20, "stream": {"interval_ms": 5}}, {}),
    "hand-written": ({"stream": {"events": HAND_WRITTEN}}, {}),
    "hand-written-paced": (
        {
            "stream": {
                "events": HAND_WRITTEN,
                "ttft_ms": 25,
                "keepalive": {"every_ms": 10},
                "interval_ms": {"min": 1, "max": 9},
                "error_after": 2,
            }
        },
        {},
    ),
    "faults": ({"content": "a b c", "stream": {"faults": {"no_finish_reason": True}}}, {}),
    "fuzz": ({"content": FIFTY, "stream": {"fuzz": {"seed": 3}}}, {}),
}


def _play(server: EmulatorServer, name: str, seed: int) -> tuple[rawsse.RawStream, JournalEntry]:
    server.reset()
    server.configure(seed=seed, time_scale=0)
    reply, extra = CASES[name]
    server.add({"name": name, "match": {"last_role": "user"}, "reply": reply})
    answer = rawsse.post(server.port, rawsse.stream_body(**extra))
    return answer, rawsse.last_entry(server)


def _whole(*args: Any, **kwargs: Any) -> Timeline:
    return REAL_STREAM_RESPONSE(*args, **kwargs).whole()


REAL_STREAM_RESPONSE = streams.stream_response


@pytest.mark.parametrize("seed", [0, 7, 12345])
@pytest.mark.parametrize("name", sorted(CASES))
def test_lazy_stream_matches_the_whole_one(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch, name: str, seed: int
) -> None:
    """A stream played as it is made sends the same writes, bytes, end and journaled schedule
    as the same stream made whole before its first byte."""
    lazy, lazy_entry = _play(server, name, seed)
    monkeypatch.setattr(streams, "stream_response", _whole)
    whole, whole_entry = _play(server, name, seed)
    assert [p.data for p in lazy.pieces] == [p.data for p in whole.pieces]
    assert (lazy.status, lazy.end, lazy.headers.get("x-generation-id")) == (
        whole.status,
        whole.end,
        whole.headers.get("x-generation-id"),
    )
    assert [(e.kind, e.data) for e in lazy_entry.events] == [
        (e.kind, e.data) for e in whole_entry.events
    ]
    assert rawsse.waits(lazy_entry) == rawsse.waits(whole_entry)
    assert lazy_entry.outcome == whole_entry.outcome


def _completion(choices: int = 1) -> Completion:
    return Completion(
        "gen-1-x",
        1,
        "m/x",
        "OpenAI",
        tuple(Choice(i, FIFTY, "stop", "stop") for i in range(choices)),
        {"prompt_tokens": 1, "completion_tokens": 50, "total_tokens": 51},
    )


SPECS = {
    "plain": StreamSpec(),
    "jitter": StreamSpec(interval=Interval(min_ms=1, max_ms=30)),
    "keepalive": StreamSpec(ttft_ms=55, keepalive=KeepAlive("PING", 10)),
    "chars-crlf": StreamSpec(chunking=Chunking("chars", 7), framing=Framing(line_ending="\r\n")),
    "error-after": StreamSpec(error_after=4, interval=Interval(min_ms=1, max_ms=3)),
    "disconnect-after": StreamSpec(disconnect_after=60),
    "split": StreamSpec(framing=Framing(split_every=9)),
    "events": StreamSpec(
        events=tuple(StreamEvent(*next(iter(e.items()))) for e in HAND_WRITTEN),
        interval=Interval(min_ms=2, max_ms=8),
    ),
}


@pytest.mark.parametrize("choices", [1, 2])
@pytest.mark.parametrize("seed", [1, 99])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_played_events_are_the_whole_tuple(name: str, seed: int, choices: int) -> None:
    """The events `play()` makes one by one are the tuple `events` makes at once (same seed)."""
    made = streams.stream_response(
        _completion(choices), SPECS[name], StreamDefaults(), random.Random(seed)
    )
    again = streams.stream_response(
        _completion(choices), SPECS[name], StreamDefaults(), random.Random(seed)
    )
    assert made.lazy
    assert list(made.play()) == list(again.events)
    assert not again.lazy and again.status == 200


def test_events_after_playing_is_an_error() -> None:
    """The events of a lazy stream are not kept as it plays: asking for them after is an error."""
    t = streams.stream_response(_completion(), StreamSpec(), StreamDefaults(), random.Random(1))
    next(t.play())
    with pytest.raises(RuntimeError, match="once it has been played"):
        t.events  # noqa: B018


class _Counted:
    """Counts the chunks a stream serialises (every content chunk is one `chunk_text`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.made = 0
        self.at_first_write: int | None = None
        real_text = Completion.chunk_text
        real_write = web.StreamResponse.write

        def chunk_text(completion: Completion, choices: list[dict[str, Any]]) -> str:
            self.made += 1
            return real_text(completion, choices)

        async def write(response: web.StreamResponse, data: bytes) -> None:
            if self.at_first_write is None:
                self.at_first_write = self.made
            await real_write(response, data)

        monkeypatch.setattr(Completion, "chunk_text", chunk_text)
        monkeypatch.setattr(web.StreamResponse, "write", write)


def test_only_the_first_chunks_are_made_before_the_first_byte(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 50-chunk stream has serialised its first two chunks (role, first word), not all 51,
    when its first bytes are written; the rest are made as they fall due."""
    server.configure(time_scale=0)
    server.add({"name": "fifty", "reply": {"content": FIFTY, "stream": {"interval_ms": 10}}})
    counted = _Counted(monkeypatch)
    answer = rawsse.post(server.port, rawsse.stream_body())
    content = [d for d in answer.data() if isinstance(d, dict) and d["choices"]]
    assert len(content) == 52  # role, 50 words, finish
    assert counted.at_first_write == 2
    assert counted.made == 52


def test_a_worker_thread_plan_is_made_whole() -> None:
    """`whole()` makes every event at once (what a plan made in a worker thread does, so its
    budget covers them) and the timeline plays the same events after."""
    t = streams.stream_response(_completion(), StreamSpec(), StreamDefaults(), random.Random(1))
    assert t.whole() is t and not t.lazy
    sends = [e for e in t.play() if isinstance(e, Send)]
    assert sends[0].data == protocol.sse_comment("OPENROUTER PROCESSING")
    assert len(sends) == 1 + 52 + 2  # comment, chunks, usage, [DONE]
