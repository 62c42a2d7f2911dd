"""docs/streaming.md is true: every ```yaml block loads with the scenario loader, and every one
followed by an ```sse block, played on a real socket, sends exactly the events that block shows
(`…` elides JSON, one line per event, `(connection closed)` for a missing terminator)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rawsse import EARLY_MS, RawStream, last_entry, post, waits

from emulator.loader import load_text
from emulator.testing import EmulatorServer

DOC = Path(__file__).resolve().parent.parent / "docs" / "streaming.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
CLOSED = "(connection closed)"
SLACK_MS = 250.0


def blocks() -> list[tuple[str, str]]:
    """Every fenced block of the doc as (language, text), in order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(DOC.read_text())]


def yaml_blocks() -> list[str]:
    return [text for lang, text in blocks() if lang == "yaml"]


def played_examples() -> list[tuple[str, str]]:
    """(yaml, sse) for every yaml block whose next block is an sse block."""
    found = blocks()
    return [
        (text, found[i + 1][1])
        for i, (lang, text) in enumerate(found[:-1])
        if lang == "yaml" and found[i + 1][0] == "sse"
    ]


def name_of(yaml_text: str) -> str:
    return yaml_text.split("\n", 1)[0].removeprefix("name: ")


def test_doc_has_examples() -> None:
    """The doc has YAML examples, most of them with their wire events."""
    assert len(yaml_blocks()) >= 20 and len(played_examples()) >= 14


@pytest.mark.parametrize("yaml_text", yaml_blocks(), ids=name_of)
def test_yaml_example_loads(yaml_text: str) -> None:
    """Each ```yaml block of docs/streaming.md is one valid scenario with a stream block or stream data."""
    (scenario,) = load_text(yaml_text, str(DOC))
    assert scenario.name == name_of(yaml_text)


def test_yaml_example_names_are_unique() -> None:
    """The doc's scenarios could all be loaded together."""
    names = [name_of(y) for y in yaml_blocks()]
    assert len(names) == len(set(names))


def matches(line: str, event: str) -> bool:
    """An sse-block line against a real event: exact, or its `…`-separated parts in order."""
    if "…" not in line:
        return line == event
    parts = line.split("…")
    if not (event.startswith(parts[0]) and event.endswith(parts[-1])):
        return False
    at = len(parts[0])
    for part in parts[1:-1]:
        at = event.find(part, at)
        if at < 0:
            return False
        at += len(part)
    return at <= len(event) - len(parts[-1])


def play(server: EmulatorServer, yaml_text: str) -> RawStream:
    """Stream a request against this scenario (on a server that has no other)."""
    server.add(yaml_text)
    return post(server.port)


@pytest.mark.parametrize(
    "yaml_text,sse", played_examples(), ids=[name_of(y) for y, _ in played_examples()]
)
def test_example_plays_as_shown(server: EmulatorServer, yaml_text: str, sse: str) -> None:
    """Played with no waits, the example sends exactly the events its ```sse block shows."""
    server.configure(time_scale=0)
    raw = play(server, yaml_text)
    lines = sse.strip().split("\n")
    closed = lines[-1] == CLOSED
    lines = lines[:-1] if closed else lines
    events = raw.events()
    assert len(events) == len(lines), events
    for line, event in zip(lines, events, strict=False):
        assert matches(line, event), (line, event)
    assert (raw.end != "complete") == closed


def example(name: str) -> str:
    return next(y for y in yaml_blocks() if name_of(y) == name)


def test_crlf_and_split_example_pieces(server: EmulatorServer) -> None:
    """The CRLF + split_every 5 example: the pieces the doc lists, and 北 cut across two writes."""
    raw = play(server, example("crlf-and-split"))
    pieces = [p.data for p in raw.pieces]
    assert pieces[:9] == [
        b": OPE",
        b"NROUT",
        b"ER PR",
        b"OCESS",
        b"ING\r\n",
        b"\r\n",
        b"data:",
        b' {"id',
        b'":"ge',
    ]
    assert all(len(p) <= 5 for p in pieces) and raw.body.endswith(b"data: [DONE]\r\n\r\n")
    north = "北".encode()
    assert north in raw.body and not any(north in p for p in pieces)


def test_ttft_example_timing(server: EmulatorServer) -> None:
    """slow-start: the comment at once, the first content at 400 ms."""
    post(server.port)  # warm-up: the first request of a process loads the tokenizer
    raw = play(server, example("slow-start"))
    (t_comment, _), *_ = raw.timed_events()
    first = raw.content_times()[0]
    assert 400 - EARLY_MS <= first <= 400 + SLACK_MS and t_comment < first - 200


def test_interval_examples_schedule(server: EmulatorServer) -> None:
    """steady, jittery and scripted-pauses schedule the gaps the doc describes."""
    scheduled = {}
    for name in ("steady", "jittery", "scripted-pauses"):
        server.reset()
        server.configure(time_scale=0)
        play(server, example(name))
        scheduled[name] = waits(last_entry(server))
    assert scheduled["steady"] == [25.0, 25.0, 25.0]
    assert len(scheduled["jittery"]) == 3 and all(10 <= g <= 60 for g in scheduled["jittery"])
    assert scheduled["scripted-pauses"] == [20.0, 20.0, 800.0]


def test_keepalive_example_schedule(server: EmulatorServer) -> None:
    """keepalive-while-thinking: comments at 0, 100, 200, 300 ms, the first chunk at 350 ms."""
    server.configure(time_scale=0)
    play(server, example("keepalive-while-thinking"))
    kinds = [(e.kind, e.data) for e in last_entry(server).events if e.kind in ("wait", "comment")]
    assert [k for k, _ in kinds] == [
        "comment",
        "wait",
        "comment",
        "wait",
        "comment",
        "wait",
        "comment",
        "wait",
    ]
    assert waits(last_entry(server)) == [100.0, 100.0, 100.0, 50.0]


def test_time_scale_example(server: EmulatorServer) -> None:
    """realistic-latency at time scale 0.1: the first content after about 80 ms instead of 800."""
    post(server.port)  # warm-up
    server.configure(time_scale=0.1)
    first = play(server, example("realistic-latency")).content_times()[0]
    assert 80 - EARLY_MS <= first <= 80 + SLACK_MS
