"""Export: a journal entry → a scenario (admin route, fixture, CLI) that, loaded again, plays the
same bytes in the same writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rawsse
import wire
import yaml

from emulator import cli
from emulator.export import ExportError, render, scenario_for
from emulator.journal import JournalEntry
from emulator.loader import load_text
from emulator.testing import EmulatorServer

STREAMS: dict[str, dict[str, Any]] = {
    "plain": {"content": "Hello there, friend."},
    "split-utf8": {"content": "Grüße aus 北京 🦊", "stream": {"framing": {"split_every": 5}}},
    "crlf": {"content": "One two", "stream": {"framing": {"line_ending": "\r\n"}}},
    "cr": {"content": "One two", "stream": {"framing": {"line_ending": "\r"}}},
    "error-after": {"content": "a b c d e", "stream": {"error_after": 2}},
    "disconnect": {"content": "a b c d e", "stream": {"disconnect_after": 2}},
    "duplicate-done": {"content": "a b", "stream": {"framing": {"duplicate_done": True}}},
    "timed": {
        "content": "a b c",
        "stream": {
            "ttft_ms": 30,
            "interval_ms": {"min": 1, "max": 9},
            "keepalive": {"every_ms": 10},
        },
    },
    "hand-written": {
        "stream": {
            "events": [
                {"comment": "OPENROUTER PROCESSING"},
                {"content": "Hel"},
                {"raw": "data: {not json\n\n"},
                {"tool_call": {"index": 0, "id": "call_1", "name": "f", "arguments": "{}"}},
                {"finish": "tool_calls"},
                {"done": True},
            ]
        }
    },
}


def _replay(server: EmulatorServer, name: str, body: dict[str, Any]) -> rawsse.RawStream:
    return rawsse.post(server.port, body, {"X-Emulator-Scenario": name})


def _exported(server: EmulatorServer, entry: JournalEntry) -> str:
    text = server.export(entry, name="exported")
    server.emulator.state.add(load_text(text, "exported.yaml"))
    return text


@pytest.mark.parametrize("case", sorted(STREAMS))
def test_exported_stream_replays_the_same_writes(server: EmulatorServer, case: str) -> None:
    """An exported stream, loaded again, sends the same bytes in the same HTTP chunks."""
    server.configure(time_scale=0.01)
    server.add({"name": case, "reply": STREAMS[case]})
    body = rawsse.stream_body()
    first = _replay(server, case, body)
    _exported(server, rawsse.last_entry(server))
    again = _replay(server, "exported", body)
    assert [p.data for p in again.pieces] == [p.data for p in first.pieces]
    assert (again.end, again.headers["x-generation-id"]) == (
        first.end,
        first.headers["x-generation-id"],
    )


def test_exported_stream_keeps_the_scheduled_waits(server: EmulatorServer) -> None:
    """The waits of an export are the schedule that was played (unscaled), not measured times."""
    server.configure(time_scale=0)
    server.add({"name": "timed", "reply": STREAMS["timed"]})
    rawsse.post(server.port, rawsse.stream_body(), {"X-Emulator-Scenario": "timed"})
    entry = rawsse.last_entry(server)
    scheduled = [float(e.data) for e in entry.events if e.kind == "wait"]
    exported = yaml.safe_load(server.export(entry))
    waits = [e["wait_ms"] for e in exported["reply"]["stream"]["events"] if "wait_ms" in e]
    assert waits == pytest.approx(scheduled) and sum(waits) > 30


@pytest.mark.parametrize(
    "scenario",
    [
        {"reply": {"content": "plain JSON", "delay_ms": 5}},
        {"error": {"preset": "rate_limited", "headers": {"Retry-After": "3"}}},
        {"fault": "malformed_json"},
    ],
    ids=["reply", "error", "malformed"],
)
def test_exported_json_answer_is_byte_identical(
    server: EmulatorServer, scenario: dict[str, Any]
) -> None:
    """A JSON reply, an error (with its Retry-After) and a broken body export to the same bytes
    and the same headers that matter."""
    server.add({"name": "orig", **scenario})
    first = wire.request(server.url, body=_json_body(), headers={"X-Emulator-Scenario": "orig"})
    _exported(server, rawsse.last_entry(server))
    again = wire.request(server.url, body=_json_body(), headers={"X-Emulator-Scenario": "exported"})
    assert (again.status, again.body) == (first.status, first.body)
    for name in ("retry-after", "x-generation-id", "content-type"):
        assert again.headers.get(name) == first.headers.get(name)


@pytest.mark.parametrize("fault", ["reset", "empty"])
def test_exported_fault_is_the_same_fault(server: EmulatorServer, fault: str) -> None:
    """A request answered with no response at all exports as that fault."""
    server.add({"name": "orig", "fault": fault})
    with pytest.raises(ConnectionError):
        wire.request(server.url, body=_json_body(), headers={"X-Emulator-Scenario": "orig"})
    assert scenario_for(rawsse.last_entry(server))["fault"] == fault


def test_export_matches_the_conversation(server: EmulatorServer) -> None:
    """The exported scenario matches the request it came from (model, stream, messages, tools)
    and not another conversation."""
    body = {**_json_body(), "tools": [_tool("get_weather")]}
    wire.request(server.url, body=body)
    server.emulator.state.add(load_text(server.export(), "exported.yaml"))
    wire.request(server.url, body=body)
    wire.request(server.url, body={**body, "messages": [{"role": "user", "content": "other"}]})
    assert [e.scenario for e in server.requests] == [None, "request-1", None]


def test_admin_route_gives_yaml_or_json(server: EmulatorServer) -> None:
    """GET /_emulator/requests/{id}/scenario: YAML by default, JSON on Accept, with ?name=."""
    wire.request(server.url, body=_json_body())
    path = "/_emulator/requests/1/scenario?name=again"
    as_yaml = wire.request(server.url, "GET", path)
    as_json = wire.request(server.url, "GET", path, headers={"Accept": "application/json"})
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.body) == json.loads(as_json.body)
    assert json.loads(as_json.body)["name"] == "again"


def test_admin_route_unknown_request_is_a_404(server: EmulatorServer) -> None:
    """A request number not in the journal is a 404 in the router's envelope naming the range
    (worded as the inspector's routes word it); one that is not a number is a 400."""
    wire.request(server.url, body=_json_body())
    response = wire.request(server.url, "GET", "/_emulator/requests/7/scenario")
    assert response.status == 404
    assert response.json()["error"]["message"] == "no request #7 in the journal (it holds #1 to #1)"
    response = wire.request(server.url, "GET", "/_emulator/requests/x1/scenario")
    assert response.status == 400
    assert response.json()["error"]["message"] == "request number 'x1' is not a positive integer"


def test_pending_entry_cannot_be_exported() -> None:
    """An entry whose response is still playing is refused with a reason."""
    entry = JournalEntry(3, "POST", "/v1/chat/completions", {}, 0.0)
    with pytest.raises(ExportError, match="request #3 is still being answered"):
        scenario_for(entry)


def test_cli_export_prints_the_scenario(
    server: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`chat-emulator export N --url URL` prints the same YAML as the fixture's export."""
    wire.request(server.url, body=_json_body())
    assert cli.main(["export", "1", "--url", server.url]) == 0
    assert capsys.readouterr().out == server.export(1)


def test_cli_export_unknown_request_fails(
    server: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`chat-emulator export` of a missing request exits 1 with the server's message."""
    assert cli.main(["export", "5", "--url", server.url]) == 1
    assert "404 no request #5 in the journal" in capsys.readouterr().err


def test_render_json_loads_like_yaml(server: EmulatorServer) -> None:
    """The JSON form loads to the same scenario as the YAML form."""
    rawsse.post(server.port, rawsse.stream_body())
    scenario = scenario_for(rawsse.last_entry(server))
    [from_json] = load_text(render(scenario, "json"), "x.json")
    [from_yaml] = load_text(render(scenario), "x.yaml")
    assert (from_json.match, from_json.steps) == (from_yaml.match, from_yaml.steps)


def _json_body() -> dict[str, Any]:
    return {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def _tool(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
