"""Recording through the proxy and replaying: byte-faithful streams and bodies, redaction, the
record modes, a tool loop as a sequence, a fault over a replay. The upstreams are real servers
on loopback: a second emulator, and an aiohttp server sending fixed bytes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rawsse
import wire
import yaml
from openai import OpenAI
from upstreams import CASES, FixedServer

from emulator import cli
from emulator.config import Config
from emulator.testing import EmulatorServer

KEY = "sk-or-v1-abcdef0123456789abcdef0123456789"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture(scope="module")
def fixed() -> Iterator[FixedServer]:
    """The fixed-bytes upstream, one per module."""
    server = FixedServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def upstream() -> Iterator[EmulatorServer]:
    """A second emulator as the upstream, one per module."""
    with EmulatorServer(Config(fixed_time=rawsse.CREATED)) as server:
        yield server


@pytest.fixture
def origin(upstream: EmulatorServer) -> EmulatorServer:
    """The upstream emulator with fresh state."""
    upstream.reset()
    return upstream


def _post(server: EmulatorServer, case: str, **body: Any) -> rawsse.RawStream:
    headers = {"x-case": case, "Authorization": f"Bearer {KEY}"}
    return rawsse.post(server.port, {**rawsse.stream_body(), **body}, headers)


def _headers_of(played: rawsse.RawStream) -> dict[str, str]:
    return {k: v for k, v in played.headers.items() if k in ("x-generation-id",)}


def _files(path: Path) -> str:
    return "".join(p.read_text() for p in sorted(path.rglob("*")) if p.is_file())


@pytest.mark.parametrize("case", ["crlf", "comments", "split-utf8", "cut-after-done"])
def test_fixed_bytes_replay_byte_for_byte(
    server: EmulatorServer, fixed: FixedServer, tmp_path: Path, case: str
) -> None:
    """What the client got through the proxy, a replay sends again: the same bytes in the same
    writes, the same end (a cut after [DONE] stays a cut), the same X-Generation-Id."""
    cassette = tmp_path / "cassette.yaml"
    server.record(cassette, "all", fixed.base_url)
    first = _post(server, case)
    server.stop_recording()
    server.reset()
    server.record(cassette, "none")
    again = _post(server, case)
    expected = [c for c in CASES[case] if isinstance(c, bytes)]
    assert [p.data for p in first.pieces] == expected, "first"
    assert [p.data for p in again.pieces] == expected, "again"
    assert (first.end, again.end) == (
        ("eof", "eof") if case.startswith("cut") else ("complete",) * 2
    )
    assert _headers_of(again) == _headers_of(first) == {"x-generation-id": "gen-1-abc"}


def test_recorded_events_are_readable(
    server: EmulatorServer, fixed: FixedServer, tmp_path: Path
) -> None:
    """A CRLF stream is written as data/comment/done events with its line ending, a split
    character as raw runs with base64 where a piece is not UTF-8."""
    server.record(tmp_path / "c.yaml", "all", fixed.base_url)
    _post(server, "crlf")
    _post(server, "split-utf8", messages=[{"role": "user", "content": "split"}])
    server.stop_recording()
    crlf, split = yaml.safe_load((tmp_path / "c.yaml").read_text())["scenarios"]
    stream = crlf["reply"]["stream"]
    assert stream["framing"] == {"line_ending": "\r\n"}
    kinds = [next(iter(e)) for e in stream["events"] if "wait_ms" not in e]
    assert kinds == ["comment", "data", "done"]
    raws = [e["raw"] for e in split["reply"]["stream"]["events"] if "raw" in e]
    assert len(raws) == 3 and isinstance(raws[1], dict) and "base64" in raws[1]


def test_client_closing_after_done_loses_nothing(
    server: EmulatorServer, fixed: FixedServer, tmp_path: Path
) -> None:
    """A client that hangs up at [DONE] still gets a recording of everything the upstream sent
    after it, up to its clean end."""
    server.record(tmp_path / "c.yaml", "all", fixed.base_url)
    headers = {"x-case": "late-after-done", "Authorization": f"Bearer {KEY}"}
    rawsse.post(server.port, rawsse.stream_body(), headers, stop_when=lambda b: b"[DONE]" in b)
    server.stop_recording()
    [scenario] = yaml.safe_load((tmp_path / "c.yaml").read_text())["scenarios"]
    events = scenario["reply"]["stream"]["events"]
    assert events[-1] == {"comment": "late comment"}
    assert events[-2]["wait_ms"] > 50 and {"done": True} in events


def test_no_key_in_any_file(server: EmulatorServer, fixed: FixedServer, tmp_path: Path) -> None:
    """The caller's key, cookies and keys inside bodies are in no recorded file; the key still
    went upstream."""
    server.record(tmp_path / "rec", "all", fixed.base_url, redact=["city"])
    _post(server, "comments", messages=[{"role": "user", "content": f"my key is {KEY}"}])
    wire.request(
        server.url,
        body={"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-case": "key-in-body", "Authorization": f"Bearer {KEY}"},
    )
    server.stop_recording()
    written = _files(tmp_path / "rec")
    assert len(list((tmp_path / "rec").glob("*.yaml"))) == 2
    assert KEY not in written and "sk-or-v1" not in written and "cookie" not in written.lower()
    assert '"api_key":"<redacted>"' in written and "my key is <redacted>" in written
    assert fixed.seen[-1]["Authorization"] == f"Bearer {KEY}"


def test_emulator_upstream_stream_replays_exactly(
    server: EmulatorServer, origin: EmulatorServer, tmp_path: Path
) -> None:
    """A stream from another emulator (with waits) replays with the bytes the client got."""
    origin.add(
        {"name": "s", "reply": {"content": "Grüße aus Köln, friend.", "stream": {"interval_ms": 2}}}
    )
    server.record(tmp_path / "c.yaml", "all", origin.base_url)
    first = _post(server, "x")
    server.stop_recording()
    sent = "".join(
        e.data for e in origin.last_request.events if e.kind in ("data", "comment", "done")
    )
    assert first.body.decode() == sent
    server.reset()
    server.record(tmp_path / "c.yaml", "none")
    assert _post(server, "x").body == first.body


def test_json_and_error_answers_replay_exactly(
    server: EmulatorServer, origin: EmulatorServer, tmp_path: Path
) -> None:
    """A JSON reply and a 429 with Retry-After replay with the same status, body and headers."""
    origin.add(
        {
            "name": "flaky",
            "match": {"last_user_message": {"equals": "flaky"}},
            "error": {"preset": "rate_limited", "headers": {"Retry-After": "7"}},
        }
    )
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    flaky = {**body, "messages": [{"role": "user", "content": "flaky"}]}
    server.record(tmp_path / "c.yaml", "all", origin.base_url)
    first = [wire.request(server.url, body=b) for b in (body, flaky)]
    server.stop_recording()
    server.reset()
    server.record(tmp_path / "c.yaml", "none")
    again = [wire.request(server.url, body=b) for b in (body, flaky)]
    assert [(r.status, r.body) for r in again] == [(r.status, r.body) for r in first]
    assert again[1].headers["retry-after"] == "7" and again[1].status == 429
    assert again[0].headers["x-generation-id"] == first[0].headers["x-generation-id"]


def test_mode_none_miss_is_an_error(server: EmulatorServer, tmp_path: Path) -> None:
    """In mode none a request no recording matches is a 404 naming the closest recording."""
    (tmp_path / "c.yaml").write_text(
        "scenarios:\n  - name: hi\n    match: {last_user_message: {equals: Hi}}\n    reply: {content: x}\n"
    )
    server.record(tmp_path / "c.yaml", "none")
    response = wire.request(
        server.url, body={"model": "m/x", "messages": [{"role": "user", "content": "Yo"}]}
    )
    assert response.status == 404
    message = response.json()["error"]["message"]
    assert message.startswith("no recording matched this request (record mode none); closest: 'hi'")


def test_mode_once_records_then_replays_only(
    server: EmulatorServer, origin: EmulatorServer, tmp_path: Path
) -> None:
    """once: a missing cassette is recorded; an existing one is replayed without the upstream,
    and a miss is an error."""
    cassette = tmp_path / "c.yaml"
    server.record(cassette, "once", origin.base_url)
    first = wire.chat(server.url)
    server.stop_recording()
    server.reset()
    server.record(cassette, "once", origin.base_url)
    again = wire.chat(server.url)
    miss = wire.chat(server.url, messages=[{"role": "user", "content": "new"}])
    assert (again.body, len(origin.requests)) == (first.body, 1)
    assert miss.status == 404


def test_mode_new_episodes_appends(
    server: EmulatorServer, origin: EmulatorServer, tmp_path: Path
) -> None:
    """new_episodes: hits replay without the upstream, misses are recorded and appended."""
    cassette = tmp_path / "c.yaml"
    server.record(cassette, "all", origin.base_url)
    wire.chat(server.url)
    server.stop_recording()
    server.reset()
    server.record(cassette, "new_episodes", origin.base_url)
    wire.chat(server.url)
    wire.chat(server.url, messages=[{"role": "user", "content": "new"}])
    server.stop_recording()
    names = [s["name"] for s in yaml.safe_load(cassette.read_text())["scenarios"]]
    assert len(origin.requests) == 2 and len(names) == 2 and names[1].endswith("new")


def test_mode_all_records_again(
    server: EmulatorServer, origin: EmulatorServer, tmp_path: Path
) -> None:
    """all: every request goes upstream again and the cassette is rewritten."""
    cassette = tmp_path / "c.yaml"
    for _ in range(2):
        server.record(cassette, "all", origin.base_url)
        wire.chat(server.url)
        server.stop_recording()
        server.reset()
    scenarios = yaml.safe_load(cassette.read_text())["scenarios"]
    assert len(origin.requests) == 2 and len(scenarios) == 1 and "reply" in scenarios[0]


def test_three_step_tool_loop_is_one_sequence(
    server: EmulatorServer, origin: EmulatorServer, tmp_path: Path
) -> None:
    """A 3-step tool loop through the openai SDK is recorded as one scenario with a 3-step
    sequence, and replays the same answers in order."""
    origin.add(
        {
            "name": "loop",
            "sequence": [
                {
                    "reply": {
                        "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]
                    }
                },
                {"reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Rome"}}]}},
                {"reply": {"content": "Sunny in both."}},
            ],
        }
    )
    cassette = tmp_path / "c.yaml"
    server.record(cassette, "all", origin.base_url)
    first = _tool_loop(server)
    server.stop_recording()
    server.reset()
    server.record(cassette, "none")
    again = _tool_loop(server)
    [scenario] = yaml.safe_load(cassette.read_text())["scenarios"]
    assert len(scenario["sequence"]) == 3 and scenario["match"]["tools"] == ["get_weather"]
    assert again == first and first[-1] == "Sunny in both."


def _tool_loop(server: EmulatorServer) -> list[str]:
    client = OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris and Rome?"}]
    seen = []
    for _ in range(3):
        reply = client.chat.completions.create(
            model="openai/gpt-4o", messages=messages, tools=[WEATHER]
        )
        message = reply.choices[0].message
        if not message.tool_calls:
            seen.append(message.content or "")
            break
        call = message.tool_calls[0]
        seen.append(call.function.arguments)
        messages += [
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ]
    return seen


def test_fault_over_a_replay(server: EmulatorServer, fixed: FixedServer, tmp_path: Path) -> None:
    """disconnect_after and split_every added to a recording cut the real stream after its
    first chunk, in 9-byte writes."""
    server.record(tmp_path / "c.yaml", "all", fixed.base_url)
    _post(server, "comments")
    server.stop_recording()
    [scenario] = yaml.safe_load((tmp_path / "c.yaml").read_text())["scenarios"]
    scenario["reply"]["stream"].update({"disconnect_after": 1, "framing": {"split_every": 9}})
    server.reset()
    server.add(scenario)
    played = _post(server, "comments")
    assert played.end == "eof" and max(len(p.data) for p in played.pieces) == 9
    assert (
        played.body
        == b": OPENROUTER PROCESSING\n\n" * 2 + (CASES["comments"][4].split(b"\n\n")[0]) + b"\n\n"
    )


def test_error_after_over_a_replay(
    server: EmulatorServer, fixed: FixedServer, tmp_path: Path
) -> None:
    """error_after: 1 over a recording: the first recorded chunk, then the in-band error."""
    server.record(tmp_path / "c.yaml", "all", fixed.base_url)
    _post(server, "comments")
    server.stop_recording()
    [scenario] = yaml.safe_load((tmp_path / "c.yaml").read_text())["scenarios"]
    scenario["reply"]["stream"]["error_after"] = 1
    server.reset()
    server.add(scenario)
    data = [
        e for e in _post(server, "comments").body.decode().split("\n\n") if e.startswith("data: {")
    ]
    assert len(data) == 2 and json.loads(data[1][6:])["error"]["code"] == 502


def test_chaos_over_a_replay(server: EmulatorServer, fixed: FixedServer, tmp_path: Path) -> None:
    """A chaos error_after (header) cuts the replayed recording after its first chunk."""
    cassette = tmp_path / "c.yaml"
    server.record(cassette, "all", fixed.base_url)
    _post(server, "comments")
    server.stop_recording()
    server.reset()
    server.record(cassette, "none")
    headers = {"x-case": "comments", "X-Emulator-Chaos": "error_after:1=1"}
    played = rawsse.post(server.port, rawsse.stream_body(), headers)
    data = [e for e in played.body.decode().split("\n\n") if e.startswith("data: ")]
    assert data[0] == CASES["comments"][4].split(b"\n\n")[0].decode()
    assert json.loads(data[1][6:])["error"]["code"] == 502 and data[2] == "data: [DONE]"


def test_unreachable_upstream_is_a_502(server: EmulatorServer, tmp_path: Path) -> None:
    """An upstream that cannot be reached gets the caller a 502 in the router's envelope."""
    server.record(tmp_path / "c.yaml", "all", "http://127.0.0.1:9/v1")
    response = wire.chat(server.url)
    assert response.status == 502
    assert (
        "the upstream http://127.0.0.1:9/v1 is unreachable" in response.json()["error"]["message"]
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--record", "all", "--cassette", "c.yaml"], "--record all needs --upstream URL"),
        (["serve", "--record", "none"], "--record needs --cassette PATH"),
        (
            ["record", "--upstream", "ftp://x"],
            "--upstream 'ftp://x' is not an http:// or https:// URL",
        ),
    ],
)
def test_cli_refuses_incomplete_recording_options(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """serve --record / record with missing or bad options exit 2 naming the problem."""
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_record_mode_names_the_valid_ones(server: EmulatorServer, tmp_path: Path) -> None:
    """An unknown record mode is refused with the list of valid modes."""
    with pytest.raises(
        ValueError,
        match=re.escape(
            "'sometimes' is not a valid record mode. Valid modes are: none, once, new_episodes, all"
        ),
    ):
        server.record(tmp_path / "c.yaml", "sometimes")
