"""docs/record-replay.md is true: each included example is its file verbatim (and runs as a test
of this suite), each scenario example loads and plays what the page says, each command parses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import rawsse

from emulator.cli import build_parser
from emulator.loader import load_text
from emulator.scenario import Scenario
from emulator.testing import EmulatorServer

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "record-replay.md"
TEXT = DOC.read_text()
BLOCK = re.compile(r"<!-- (?P<note>[^>]*?) -->\n```(?P<lang>\w+)\n(?P<text>.*?)^```$", re.S | re.M)
BLOCKS = [(m["note"], m["text"]) for m in BLOCK.finditer(TEXT)]
EXAMPLES = [note.removeprefix("example: ") for note, _ in BLOCKS if note.startswith("example: ")]


def scenario(name: str) -> Scenario:
    """The scenario of the page's yaml example called `name`."""
    found = [
        s
        for note, text in BLOCKS
        if note == "scenario"
        for s in load_text(text, "docs/record-replay.md")
        if s.name == name
    ]
    assert found, f"no scenario example named {name!r}"
    return found[0]


@pytest.mark.parametrize("path", EXAMPLES)
def test_included_example_is_the_file(path: str) -> None:
    """Each example block is, verbatim, the file named above it."""
    text = next(t for n, t in BLOCKS if n == f"example: {path}")
    assert text == (ROOT / path).read_text()


def test_every_example_file_is_on_the_page() -> None:
    """No file of tests/docs_record is left out of the page."""
    files = {str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "docs_record").glob("*.py")}
    assert files == set(EXAMPLES)


def test_cassette_block_is_the_file_and_loads() -> None:
    """The cassette shown is, verbatim, the one the example test replays, and it loads."""
    [(note, text)] = [(n, t) for n, t in BLOCKS if n.startswith("cassette: ")]
    assert text == (ROOT / note.removeprefix("cassette: ")).read_text()
    assert load_text(text, "cassette.yaml")


def test_every_scenario_example_loads() -> None:
    """Every yaml example of the page is a valid scenario file."""
    texts = [t for n, t in BLOCKS if n == "scenario"]
    assert len(texts) >= 3
    for text in texts:
        assert load_text(text, "docs/record-replay.md")


def test_recording_example_replays_its_bytes(server: EmulatorServer) -> None:
    """The recording example sends exactly the bytes its events spell, with a split character."""
    server.configure(time_scale=0)
    server.emulator.state.add([scenario("weather-in-paris")])
    body = {**rawsse.stream_body(), "messages": [_ask("What is the weather in Paris?")]}
    body["tools"] = [{"type": "function", "function": {"name": "get_weather"}}]
    played = rawsse.post(server.port, body)
    text = played.body.decode()
    assert text.startswith(": OPENROUTER PROCESSING\n\ndata: {")
    assert '"content":"ny ☀"}}]}\n\ndata: [DONE]\n\n' in text
    assert played.headers["x-generation-id"] == "gen-1735689600-AbCdEfGhIjKlMnOpQrSt"


def test_regenerate_example_changes_only_ids(server: EmulatorServer) -> None:
    """`ids: regenerate` sends a fresh id and created in the header and the body."""
    server.emulator.state.add([scenario("fresh-ids-each-time")])
    entry_body = rawsse.post(server.port, {**rawsse.stream_body(), "stream": False})
    assert entry_body.status == 200
    reply = server.last_request
    sent = reply.events[1].data
    assert "AbCdEfGhIjKlMnOpQrSt" not in sent and '"content":"Hi."' in sent
    assert f'"created":{rawsse.CREATED}' in sent and reply.generation_id in sent


def test_fault_example_cuts_after_one_chunk(server: EmulatorServer) -> None:
    """The fault example sends the comment and one chunk in 7-byte writes, then closes."""
    server.configure(time_scale=0)
    server.emulator.state.add([scenario("weather-cut-after-one-chunk")])
    played = rawsse.post(server.port, rawsse.stream_body())
    assert played.end == "eof"
    assert max(len(p.data) for p in played.pieces) == 7 and len(played.pieces) > 20
    assert played.body.decode().endswith('"content":"Sun"}}]}\n\n')


def test_commands_on_the_page_parse() -> None:
    """Every `chat-emulator ...` command shown on the page is a valid command line."""
    shown = re.findall(r"^```sh\n(chat-emulator .*?)\n```$", TEXT, re.M)
    commands = re.findall(r"`(chat-emulator [^`]*)`", TEXT) + shown
    assert shown
    assert commands
    for command in commands:
        required = re.sub(r"\[[^\]]*\]", "", command)  # the [optional] parts left out
        build_parser().parse_args(_concrete(shlex.split(required)[1:]))


def _concrete(args: list[str]) -> list[str]:
    """Placeholders (ID, FILE, URL ...) become sample values."""
    samples = {
        "ID": "1",
        "URL": "http://127.0.0.1:1",
        "FILE": "x.yaml",
        "PATH": "c.yaml",
        "MODE": "none",
    }
    return [samples.get(a, a) for a in args]


def _ask(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}
