"""The inspector's routes without a browser: the page and its files, the live journal events,
one request in detail, the scenario reload, and the admin token (header, ?token= and cookie)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI
from wire import RawResponse, chat, request

from emulator.testing import EmulatorServer

NO_KEY = {"Authorization": None}
SLOW = {
    "name": "slow",
    "match": {"last_user_message": {"contains": "slow"}},
    "reply": {"content": "one two three", "stream": {"ttft_ms": 40, "interval_ms": 30}},
}


def get(server: EmulatorServer, path: str, headers: dict[str, Any] | None = None) -> RawResponse:
    return request(server.url, method="GET", path=path, headers={**NO_KEY, **(headers or {})})


@contextmanager
def event_stream(
    server: EmulatorServer, headers: dict[str, str] | None = None
) -> Iterator[Callable[[], tuple[str, Any]]]:
    """Open /_emulator/events; yields a function reading the next (event, data) pair."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/_emulator/events", headers=headers or {})
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"

    def next_event() -> tuple[str, Any]:
        fields: dict[str, str] = {}
        while True:
            line = response.readline().decode().rstrip("\n")
            if not line:
                if "event" in fields:
                    return fields["event"], json.loads(fields["data"])
                fields = {}
                continue
            name, _, value = line.partition(": ")
            fields[name] = value

    try:
        yield next_event
    finally:
        conn.close()


# --- the page ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type", "needle"),
    [
        ("/_emulator/ui", "text/html", b"<title>chat-emulator inspector</title>"),
        ("/_emulator/ui/index.html", "text/html", b'src="/_emulator/ui/inspector.js"'),
        ("/_emulator/ui/inspector.js", "text/javascript", b"new EventSource("),
        ("/_emulator/ui/inspector.css", "text/css", b"svg.timeline"),
        ("/_emulator/ui/timeline.js", "text/javascript", b"export function timelineSection("),
    ],
)
def test_page_and_files_are_served_from_the_package(
    server: EmulatorServer, path: str, content_type: str, needle: bytes
) -> None:
    """The page, its script and style sheet come from the package, with a self-only CSP."""
    response = get(server, path)
    assert response.status == 200
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert needle in response.body


def test_page_references_nothing_outside_the_emulator() -> None:
    """No URL in the page's files points off the server (no CDN, nothing from the internet)."""
    folder = Path(__file__).resolve().parents[1] / "emulator" / "ui"
    for file in folder.iterdir():
        text = file.read_text()
        assert "https://" not in text and "//cdn" not in text, file.name
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), file.name


def test_unknown_file_is_a_404_listing_the_files(server: EmulatorServer) -> None:
    """A file the inspector does not have is a 404 in the envelope naming the ones it has."""
    response = get(server, "/_emulator/ui/secret.py")
    assert response.status == 404
    error = response.json()["error"]
    assert error["message"] == "no inspector file 'secret.py'; the page is at /_emulator/ui"
    assert error["metadata"] == {
        "error_type": "not_found",
        "files": [
            "detail.js",
            "dom.js",
            "index.html",
            "inspector.css",
            "inspector.js",
            "timeline.js",
        ],
    }


# --- the admin token -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(make_server_module: Callable[..., EmulatorServer]) -> EmulatorServer:
    """A server with an admin token."""
    return make_server_module(admin_token="s3cret")


@pytest.fixture(scope="module")
def make_server_module() -> Iterator[Callable[..., EmulatorServer]]:
    """Servers with a custom Config shared by this module's tests."""
    started: list[EmulatorServer] = []

    def make(**config: Any) -> EmulatorServer:
        from emulator.config import Config

        server = EmulatorServer(Config(**config)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.mark.parametrize(
    "path",
    [
        "/_emulator/ui",
        "/_emulator/ui/inspector.js",
        "/_emulator/events",
        "/_emulator/requests/1",
    ],
)
def test_token_required_on_every_inspector_route(guarded: EmulatorServer, path: str) -> None:
    """Without the admin token the page, its files and its data routes are 401s."""
    response = get(guarded, path)
    assert response.status == 401
    assert "admin token" in response.json()["error"]["message"]


def test_token_in_the_query_sets_a_cookie_and_redirects(guarded: EmulatorServer) -> None:
    """`?token=` sets an HttpOnly SameSite=Strict cookie and redirects to the bare page."""
    response = get(guarded, "/_emulator/ui?token=s3cret")
    assert response.status == 303
    assert response.headers["location"] == "/_emulator/ui"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("chat_emulator_admin=s3cret;")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_emulator" in cookie


def test_wrong_token_in_the_query_is_a_401(guarded: EmulatorServer) -> None:
    """A wrong `?token=` sets nothing."""
    response = get(guarded, "/_emulator/ui?token=nope")
    assert response.status == 401
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "path", ["/_emulator/ui", "/_emulator/ui/inspector.css", "/_emulator/health"]
)
def test_the_cookie_opens_the_page_and_the_admin_api(guarded: EmulatorServer, path: str) -> None:
    """The cookie the page set is accepted like the bearer token, on every admin route."""
    assert get(guarded, path, {"Cookie": "chat_emulator_admin=s3cret"}).status == 200
    assert get(guarded, path, {"Cookie": "chat_emulator_admin=wrong"}).status == 401


def test_query_token_without_a_server_token_just_redirects(server: EmulatorServer) -> None:
    """On a server without an admin token, `?token=` is dropped from the address."""
    response = get(server, "/_emulator/ui?token=whatever")
    assert (response.status, response.headers["location"]) == (303, "/_emulator/ui")
    assert "set-cookie" not in response.headers


# --- the live journal ----------------------------------------------------------------------------


def test_events_snapshot_then_open_and_finish_of_each_request(server: EmulatorServer) -> None:
    """The stream starts with a snapshot, then sends each request when it opens and finishes."""
    chat(server.url)
    with event_stream(server) as next_event:
        kind, rows = next_event()
        assert kind == "snapshot"
        assert [(r["seq"], r["outcome"], r["model"]) for r in rows] == [
            (1, "completed", "openai/gpt-4o")
        ]
        chat(server.url, model="openai/gpt-4o-mini", stream=True)
        opened, finished = next_event(), next_event()
        assert (opened[0], opened[1]["seq"]) == ("request", 2)
        assert finished[0] == "request"
        assert {k: finished[1][k] for k in ("seq", "status", "outcome", "stream", "model")} == {
            "seq": 2,
            "status": 200,
            "outcome": "completed",
            "stream": True,
            "model": "openai/gpt-4o-mini",
        }


def test_events_report_invalid_requests_and_clear(server: EmulatorServer) -> None:
    """A request failing validation has the outcome `invalid`; emptying the journal sends clear."""
    with event_stream(server) as next_event:
        assert next_event() == ("snapshot", [])
        chat(server.url, temperature="hot")
        next_event()
        kind, row = next_event()
        assert (kind, row["status"], row["outcome"]) == ("request", 400, "invalid")
        request(server.url, method="DELETE", path="/_emulator/requests")
        assert next_event() == ("clear", {})


def test_events_report_the_session_header(server: EmulatorServer) -> None:
    """A request naming a session (X-Emulator-Session) carries it in its row."""
    with event_stream(server) as next_event:
        next_event()
        request(
            server.url,
            body={"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hi"}]},
            headers={"X-Emulator-Session": "agent-7"},
        )
        next_event()
        assert next_event()[1]["session"] == "agent-7"


def test_events_with_the_admin_cookie(guarded: EmulatorServer) -> None:
    """The event stream takes the cookie (an EventSource cannot send headers)."""
    with event_stream(guarded, {"Cookie": "chat_emulator_admin=s3cret"}) as next_event:
        assert next_event()[0] == "snapshot"


# --- one request in detail -----------------------------------------------------------------------


def test_detail_of_a_stream_has_scheduled_and_actual_times(server: EmulatorServer) -> None:
    """Every played event has its scheduled time (waits times the time scale) and its actual one."""
    server.add(SLOW)
    server.configure(time_scale=0.5)
    client = OpenAI(base_url=server.base_url, api_key="sk-test")
    stream = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "slow"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    detail = get(server, "/_emulator/requests/1").json()
    timing = detail["timing"]
    kinds = [e["kind"] for e in timing["events"]]
    assert kinds[:4] == ["head", "comment", "wait", "data"]
    assert kinds[-2:] == ["done", "close"]
    waits = [e["scheduled_ms"] for e in timing["events"] if e["kind"] == "wait"]
    assert waits == [20.0, 35.0, 50.0]  # 40, 30, 30 ms at half speed
    for event in timing["events"]:
        assert event["t_ms"] >= event["scheduled_ms"]
    assert timing["first_byte_ms"] == timing["events"][1]["t_ms"]  # the keep-alive comment
    assert timing["ttft_ms"] == timing["events"][3]["t_ms"]  # the first data event
    assert len(timing["gaps_ms"]) == sum(1 for k in kinds if k in ("data", "done")) - 1
    assert timing["time_scale"] == 0.5
    assert detail["reply"]["choices"][0]["content"] == text == "one two three"
    assert detail["summary"]["scenario"] == detail["scenario"] == "slow"


def test_detail_of_a_json_reply_rebuilds_tool_calls_and_usage(server: EmulatorServer) -> None:
    """A JSON reply's tool calls, finish reason and usage are read back from the body sent."""
    server.add(
        {
            "name": "tool",
            "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
        }
    )
    sent = chat(server.url).json()
    reply = get(server, "/_emulator/requests/1").json()["reply"]
    (choice,) = reply["choices"]
    assert choice["tool_calls"] == [
        {
            "id": sent["choices"][0]["message"]["tool_calls"][0]["id"],
            "name": "get_weather",
            "arguments": '{"city":"Oslo"}',
        }
    ]
    assert choice["finish_reason"] == "tool_calls"
    assert reply["usage"] == sent["usage"]


def test_detail_of_an_unmatched_request_has_near_misses(server: EmulatorServer) -> None:
    """When no scenario matched, the detail lists every near miss with its reasons."""
    server.add(SLOW)
    detail = get(server, "/_emulator/requests/" + str(_seq_of(chat(server.url), server))).json()
    assert detail["scenario"] is None
    assert [m["scenario"] for m in detail["near_misses"]] == ["slow"]
    assert detail["near_misses"][0]["reasons"]


def _seq_of(response: RawResponse, server: EmulatorServer) -> int:
    assert response.status == 200
    return server.last_request.seq


def test_raw_bytes_are_exactly_what_was_sent(server: EmulatorServer) -> None:
    """The raw route gives the response's bytes after its head, byte for byte, to download."""
    sent = chat(server.url, stream=True)
    response = get(server, "/_emulator/requests/1/raw")
    assert response.status == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == 'attachment; filename="request-1.bin"'
    assert response.body == sent.body


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/_emulator/requests/abc", 400, "request number 'abc' is not a positive integer"),
        ("/_emulator/requests/99", 404, "no request #99 in the journal (it holds no requests)"),
    ],
)
def test_detail_of_a_bad_number(
    server: EmulatorServer, path: str, status: int, message: str
) -> None:
    """A request number that is not one, or not in the journal, gets a clear 4xx."""
    response = get(server, path)
    assert (response.status, response.json()["error"]["message"]) == (status, message)


def test_curl_command_gives_the_same_reply(server: EmulatorServer) -> None:
    """The detail's curl command, run by a shell, gets the same reply from the emulator."""
    server.add({"name": "hi", "reply": {"content": "Hello from the scenario"}})
    first = chat(server.url, messages=[{"role": "user", "content": 'it\'s "quoted"'}]).json()
    command = get(server, "/_emulator/requests/1").json()["curl"]
    assert "$OPENROUTER_API_KEY" in command and "sk-test" not in command
    env = {**os.environ, "OPENROUTER_API_KEY": "sk-test"}
    out = subprocess.run(command, shell=True, capture_output=True, env=env, timeout=30, check=True)
    again = json.loads(out.stdout)
    assert again["choices"] == first["choices"]
    assert server.requests[-1].body == server.requests[0].body


# --- scenario files ------------------------------------------------------------------------------


def test_reload_without_scenario_files_is_a_400(server: EmulatorServer) -> None:
    """A server started without --scenarios has nothing to reload, and says so."""
    response = request(server.url, path="/_emulator/scenarios/reload")
    assert response.status == 400
    assert "started without --scenarios" in response.json()["error"]["message"]


def test_reload_reads_the_files_anew(
    tmp_path: Path, make_server: Callable[..., EmulatorServer]
) -> None:
    """Reload swaps in the files' current scenarios; a broken file keeps the last good set."""
    file = tmp_path / "s.yaml"
    file.write_text("name: first\nreply:\n  content: A\n")
    server = make_server(scenario_paths=(str(file),))
    server.load(file)
    file.write_text("name: second\nreply:\n  content: B\n")
    response = request(server.url, path="/_emulator/scenarios/reload")
    assert (response.status, response.json()) == (200, {"reloaded": ["second"], "kept": []})
    file.write_text("name: third\nreply:\n  contnt: C\n")
    response = request(server.url, path="/_emulator/scenarios/reload")
    assert response.status == 400
    assert response.json()["error"]["message"].startswith(f"{file}:3")
    assert [s.name for s in server.emulator.state.scenarios] == ["second"]


def test_detail_reports_the_generation_cost(server: EmulatorServer) -> None:
    """The reply's cost is what generation stats report for it (catalog prices, USD)."""
    sent = chat(server.url).json()
    reply = get(server, "/_emulator/requests/1").json()["reply"]
    stats = request(server.url, method="GET", path=f"/v1/generation?id={sent['id']}").json()
    assert reply["cost"] == stats["data"]["total_cost"] > 0


def test_reply_is_rebuilt_from_split_events_tool_calls_and_choices(server: EmulatorServer) -> None:
    """Deltas cut across events (split_every), tool-call fragments and several choices are
    joined back into what the client received."""
    server.add(
        {
            "name": "split",
            "reply": {
                "tool_calls": [{"name": "lookup", "arguments": {"query": "a long query text"}}],
                "stream": {"chunking": {"chars": 3}, "framing": {"split_every": 7}},
            },
        }
    )
    client = OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    with client:
        chunks = list(
            client.chat.completions.create(
                model="openai/gpt-4o",
                messages=[{"role": "user", "content": "Hi"}],
                stream=True,
                n=2,
            )
        )
    arguments: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                arguments[choice.index] = arguments.get(choice.index, "") + (
                    call.function.arguments or "" if call.function else ""
                )
    reply = get(server, "/_emulator/requests/1").json()["reply"]
    assert [c["index"] for c in reply["choices"]] == [0, 1]
    for choice in reply["choices"]:
        (call,) = choice["tool_calls"]
        assert call["name"] == "lookup"
        assert call["arguments"] == arguments[choice["index"]] == '{"query":"a long query text"}'
        assert choice["finish_reason"] == "tool_calls"


def test_scheduled_times_scale_waits_but_not_holds() -> None:
    """A wait's scheduled time shrinks with the time scale; a hold (hang, stall) does not."""
    from emulator.inspection import timing
    from emulator.journal import JournalEntry

    entry = JournalEntry(1, "POST", "/v1/chat/completions", {}, 0.0, time_scale=0.5)
    entry.played = [
        (0.5, "head", "200"),
        (10.2, "wait", "20"),
        (10.3, "data", "data: {}\n\n"),
        (50.4, "hold", "40"),
        (50.6, "drop", ""),
    ]
    events = timing(entry)["events"]
    assert [(e["kind"], e["scheduled_ms"], e["bytes"]) for e in events] == [
        ("head", 0.0, 0),
        ("wait", 10.0, 0),
        ("data", 10.0, 10),
        ("hold", 50.0, 0),
        ("drop", 50.0, 0),
    ]
