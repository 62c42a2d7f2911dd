"""The shipped streaming scenarios (scenarios/stream-*.yaml): the whole directory loads through the
loader (it is also the `emulator.scenarios` resource package), each file is one named, described
scenario picked by its `x-test-case` header, and each does on the wire (and to the openai SDK)
what its description says. The CLI serves them byte for byte like the fixture server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from openai import OpenAI
from rawsse import EARLY_MS, RawStream, last_entry, post, stream_body, waits

from emulator.journal import JournalEntry
from emulator.loader import load_paths
from emulator.testing import EmulatorServer

SCALE = 0.1  # the time scale the scenario checks run at
DIR = Path(str(files("emulator.scenarios")))
STREAM_FILES = sorted(DIR.glob("stream-*.yaml"))
NAMES = [p.stem for p in STREAM_FILES]


@pytest.fixture
def loaded(server: EmulatorServer) -> EmulatorServer:
    """The fixture server with the whole scenarios/ directory loaded, at time scale 0.1."""
    server.load(DIR)
    server.configure(time_scale=SCALE)
    return server


def request(server: EmulatorServer, name: str, **extra: Any) -> tuple[RawStream, JournalEntry]:
    """Stream a request carrying `x-test-case: name`; the raw response and its journal entry."""
    raw = post(server.port, stream_body(**extra), {"x-test-case": name})
    entry = last_entry(server)
    assert entry.scenario == name, entry.near_misses
    return raw, entry


def sdk(server: EmulatorServer, name: str) -> OpenAI:
    return OpenAI(
        base_url=server.base_url,
        api_key=server.api_key,
        max_retries=0,
        timeout=10,
        default_headers={"x-test-case": name},
    )


def sdk_text(client: OpenAI, delivered: list[str] | None = None) -> str:
    """Stream through the SDK; the content deltas (also appended to `delivered` as they come)."""
    out = delivered if delivered is not None else []
    for c in client.chat.completions.create(
        model="openai/gpt-4o", stream=True, messages=[{"role": "user", "content": "hi"}]
    ):
        if c.choices and c.choices[0].delta.content:
            out.append(c.choices[0].delta.content)
    return "".join(out)


def contents(raw: RawStream, key: str = "content", eol: str = "\n") -> list[str]:
    return [
        d["choices"][0]["delta"][key]
        for d in raw.data(eol)
        if isinstance(d, dict) and d.get("choices") and d["choices"][0].get("delta", {}).get(key)
    ]


# --- the files themselves ----------------------------------------------------------------------


def test_directory_loads_and_has_the_stream_files() -> None:
    """The whole scenarios/ directory loads; the streaming files are there and named after themselves."""
    names = {s.name for s in load_paths([DIR])}
    assert set(NAMES) <= names and len(NAMES) >= 12


@pytest.mark.parametrize("path", STREAM_FILES, ids=NAMES)
def test_file_is_one_described_scenario_matched_by_header(path: Path) -> None:
    """One scenario per file: name = file name, a description, matched by x-test-case: <name>."""
    (scenario,) = load_paths([path])
    assert scenario.name == path.stem and scenario.description.strip()
    assert [(h, m.op, m.value) for h, m in scenario.match.headers] == [
        ("x-test-case", "equals", path.stem)
    ]


def test_without_the_header_no_stream_scenario_answers(loaded: EmulatorServer) -> None:
    """A request without x-test-case is not taken by any stream-* scenario."""
    raw = post(loaded.port)
    assert raw.end == "complete" and (last_entry(loaded).scenario or "") not in NAMES


# --- what each one does ------------------------------------------------------------------------


def check_slow_typing(server: EmulatorServer) -> None:
    raw, entry = request(server, "stream-slow-typing")
    events = raw.events()
    assert events[:4] == [": OPENROUTER PROCESSING"] * 4 and events[4].startswith("data: ")
    gaps = waits(entry)
    assert gaps[:4] == [100.0, 100.0, 100.0, 100.0]
    assert all(20 <= g <= 80 for g in gaps[4:]) and len(set(gaps[4:])) > 1
    pieces = contents(raw)
    assert pieces[0] == "Once upon" and all(len(p.split()) <= 2 for p in pieces)
    assert raw.content_times()[0] >= 400 * SCALE - EARLY_MS


def check_explicit_chunks(server: EmulatorServer) -> None:
    raw, entry = request(server, "stream-explicit-chunks")
    assert contents(raw) == ["Once", " upon", " a time", ",", " the end."]
    assert waits(entry) == [50.0, 200.0, 10.0, 10.0]


def check_error_after_content(server: EmulatorServer) -> None:
    raw, _ = request(server, "stream-error-after-content")
    data = raw.data()
    assert contents(raw) == ["The", " meaning", " of"]
    assert data[-2]["error"] == {
        "code": 502,
        "message": "Provider returned error",
        "metadata": {"error_type": "provider_unavailable", "provider_code": "connection_reset"},
    }
    assert data[-1] == "[DONE]"
    delivered: list[str] = []
    with pytest.raises(openai.APIError) as info:
        sdk_text(sdk(server, "stream-error-after-content"), delivered)
    assert info.value.message == "Provider returned error"
    assert delivered == ["The", " meaning", " of"]


def check_disconnect(server: EmulatorServer) -> None:
    raw, entry = request(server, "stream-disconnect")
    assert contents(raw) == ["The", " meaning"] and raw.end in ("eof", "reset")
    assert b"[DONE]" not in raw.body and entry.outcome == "dropped"
    delivered: list[str] = []
    with pytest.raises(openai.APIConnectionError) as info:
        sdk_text(sdk(server, "stream-disconnect"), delivered)
    assert type(info.value.__cause__) is httpx2.RemoteProtocolError
    assert delivered == ["The", " meaning"]


def check_hand_written_events(server: EmulatorServer) -> None:
    raw, entry = request(server, "stream-hand-written-events")
    assert [e.kind for e in entry.events] == [
        "head",
        "comment",
        "wait",
        "data",
        "data",
        "data",
        "data",
        "raw",
        "error",
        "data",
        "data",
        "done",
        "drop",
    ]
    assert b"data: {not json\n\n" in raw.body and raw.end in ("eof", "reset")
    assert raw.timed_events()[1][0] >= 300 * SCALE - EARLY_MS
    delivered: list[str] = []
    with pytest.raises(json.JSONDecodeError):
        sdk_text(sdk(server, "stream-hand-written-events"), delivered)
    assert delivered == ["Hel", "lo"]


def check_split_utf8(server: EmulatorServer) -> None:
    raw, _ = request(server, "stream-split-utf8")
    assert all(len(p.data) <= 5 for p in raw.pieces)
    broken = 0
    for piece in raw.pieces:
        try:
            piece.data.decode()
        except UnicodeDecodeError:
            broken += 1
    assert broken > 0
    assert "".join(contents(raw)) == "In 北京 there lived a 🦊."
    assert sdk_text(sdk(server, "stream-split-utf8")) == "In 北京 there lived a 🦊."


def check_crlf(server: EmulatorServer) -> None:
    raw, _ = request(server, "stream-crlf")
    assert raw.body.endswith(b"data: [DONE]\r\n\r\n") and b"\n\n" not in raw.body
    assert all(line.endswith(b"\r") for line in raw.body.split(b"\n")[:-1])
    assert "".join(contents(raw, eol="\r\n")) == "Once upon a time there lived a fox."
    assert sdk_text(sdk(server, "stream-crlf")) == "Once upon a time there lived a fox."


def check_stall(server: EmulatorServer) -> None:
    raw, entry = request(server, "stream-stall")
    assert len(raw.data()) == 2 and raw.tail() and not raw.tail().endswith(b"\n")
    assert raw.end in ("eof", "reset") and entry.outcome == "dropped"
    assert raw.end_ms >= 2000 * SCALE - EARLY_MS  # the close is due stall_ms after the request


def check_no_done(server: EmulatorServer) -> None:
    raw, _ = request(server, "stream-no-done")
    assert raw.end == "complete" and "[DONE]" not in raw.data() and "usage" in raw.data()[-1]
    assert sdk_text(sdk(server, "stream-no-done")) == "Once upon a time there lived a fox."


def check_duplicate_done(server: EmulatorServer) -> None:
    raw, _ = request(server, "stream-duplicate-done")
    assert (
        raw.body.endswith(b"data: [DONE]\n\ndata: [DONE]\n\n") and raw.data().count("[DONE]") == 2
    )
    assert sdk_text(sdk(server, "stream-duplicate-done")) == "Once upon a time there lived a fox."


def check_tool_calls(server: EmulatorServer) -> None:
    raw, _ = request(server, "stream-tool-calls")
    calls = [
        c
        for d in raw.data()[:-1]
        if d["choices"]
        for c in d["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert [c["id"] for c in calls if "id" in c] == ["call_weather_paris", "call_weather_rome"]
    assert all(len(c["function"]["arguments"]) <= 3 for c in calls)
    with sdk(server, "stream-tool-calls").chat.completions.stream(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        final = stream.get_final_completion()
    rebuilt = [
        (c.id, c.function.name, c.function.arguments)
        for c in final.choices[0].message.tool_calls or []
    ]
    assert rebuilt == [
        ("call_weather_paris", "get_weather", '{"city":"Paris","unit":"c"}'),
        ("call_weather_rome", "get_weather", '{"city":"Rome","unit":"c"}'),
    ]
    assert final.choices[0].finish_reason == "tool_calls"


def check_reasoning(server: EmulatorServer) -> None:
    raw, _ = request(server, "stream-reasoning")
    kinds = [
        k
        for d in raw.data()[:-2]
        for k in ("reasoning", "content")
        if d["choices"] and d["choices"][0]["delta"].get(k)
    ]
    first_content = kinds.index("content")
    assert set(kinds[:first_content]) == {"reasoning"} and set(kinds[first_content:]) == {"content"}
    assert (
        "".join(contents(raw, "reasoning"))
        == "The user asks for the capital of France. That is Paris."
    )
    assert len(contents(raw, "reasoning")) > 5  # token by token


def check_usage_openrouter(server: EmulatorServer) -> None:
    raw, _ = request(server, "stream-usage-openrouter")
    usage_chunk = raw.data()[-2]
    assert usage_chunk["usage"]["total_tokens"] > 0
    assert usage_chunk["choices"][0]["delta"] == {}
    assert usage_chunk["choices"][0]["finish_reason"] == "stop"
    assert sdk_text(sdk(server, "stream-usage-openrouter")) == "Once upon a time there lived a fox."


CHECKS: dict[str, Callable[[EmulatorServer], None]] = {
    "stream-slow-typing": check_slow_typing,
    "stream-explicit-chunks": check_explicit_chunks,
    "stream-error-after-content": check_error_after_content,
    "stream-disconnect": check_disconnect,
    "stream-hand-written-events": check_hand_written_events,
    "stream-split-utf8": check_split_utf8,
    "stream-crlf": check_crlf,
    "stream-stall": check_stall,
    "stream-no-done": check_no_done,
    "stream-duplicate-done": check_duplicate_done,
    "stream-tool-calls": check_tool_calls,
    "stream-reasoning": check_reasoning,
    "stream-usage-openrouter": check_usage_openrouter,
}


def test_every_stream_file_has_a_check() -> None:
    """No shipped stream-* scenario goes untested."""
    assert sorted(CHECKS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_scenario_does_what_it_says(loaded: EmulatorServer, name: str) -> None:
    """Requested by its header among all shipped scenarios, the scenario behaves as described."""
    CHECKS[name](loaded)


# --- the same files from the command line ------------------------------------------------------


@pytest.fixture
def cli_port() -> Iterator[int]:
    """`python -m emulator serve` with the stream-* files, no waits, the fixture server's time."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--port",
            "0",
            "--time-scale",
            "0",
            "--fixed-time",
            "1735689600",
            "--scenarios",
            *map(str, STREAM_FILES),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if line.startswith("loaded "):  # with --scenarios, what was loaded comes first
            line = proc.stdout.readline()
        assert line.startswith("chat-emulator serving on http://127.0.0.1:"), line
        yield int(line.strip().rsplit(":", 1)[1])
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


def test_cli_serves_the_same_bytes(server: EmulatorServer, cli_port: int) -> None:
    """Served by the CLI (--time-scale 0), every stream-* scenario sends the fixture's exact bytes."""
    server.load(*STREAM_FILES)
    server.configure(time_scale=0)
    for name in NAMES:
        cli = post(cli_port, stream_body(), {"x-test-case": name})
        ours = post(server.port, stream_body(), {"x-test-case": name})
        assert cli.body == ours.body, name
        assert (cli.end == "complete") == (ours.end == "complete"), name
