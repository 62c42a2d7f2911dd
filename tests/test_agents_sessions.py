"""Sessions on a shared server: the X-Emulator-Session header partitions sequence counters and
the journal; the admin API reads and resets one session; without the header nothing changes."""

from __future__ import annotations

import openai
import pytest
from wire import request

from emulator import state
from emulator.chatrequest import ChatRequest
from emulator.loader import load_text
from emulator.state import ScenarioState
from emulator.testing import EmulatorServer

SEQUENCE = """
name: steps
sequence:
  - reply: {content: first}
  - reply: {content: second}
  - reply: {content: third}
"""
MESSAGES = [{"role": "user", "content": "next"}]


def ask(server: EmulatorServer, session: str | None = None) -> str:
    headers = {"X-Emulator-Session": session} if session else None
    client = openai.OpenAI(
        base_url=server.base_url, api_key=server.api_key, max_retries=0, default_headers=headers
    )
    completion = client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)
    return completion.choices[0].message.content or ""


def test_two_sessions_interleaved_have_their_own_sequences(server: EmulatorServer) -> None:
    """Two jobs interleaving on one server each see the sequence from its first step."""
    server.add(SEQUENCE)
    seen = [ask(server, "job-a"), ask(server, "job-b"), ask(server, "job-a"), ask(server, "job-b")]
    assert seen == ["first", "first", "second", "second"]
    assert ask(server, "job-a") == "third"


def test_two_sessions_have_their_own_journals(server: EmulatorServer) -> None:
    """Each session's view holds its own requests and calls, and only those."""
    server.add(SEQUENCE)
    for session in ("job-a", "job-b", "job-a"):
        ask(server, session)
    a, b = server.session("job-a"), server.session("job-b")
    assert [e.session for e in a.requests] == ["job-a", "job-a"]
    assert [e.call_number for e in a.requests] == [1, 2]
    assert [e.call_number for e in b.requests] == [1]
    assert (a.scenario_calls(), b.scenario_calls()) == ({"steps": 2}, {"steps": 1})
    assert server.scenario_calls() == {"steps": 3}


def test_without_the_header_nothing_changes(server: EmulatorServer) -> None:
    """Requests without a session share one sequence, unaffected by sessions."""
    server.add(SEQUENCE)
    assert [ask(server), ask(server, "job-a"), ask(server)] == ["first", "first", "second"]
    assert [e.session for e in server.requests] == [None, "job-a", None]


def test_resetting_one_session_leaves_the_other(server: EmulatorServer) -> None:
    """Resetting a session restarts its sequence and empties its journal, nothing else."""
    server.add(SEQUENCE)
    ask(server, "job-a")
    ask(server, "job-b")
    assert server.session("job-a").reset() == 1
    assert server.session("job-a").requests == []
    assert [ask(server, "job-a"), ask(server, "job-b")] == ["first", "second"]


def test_admin_reads_and_resets_one_session(server: EmulatorServer) -> None:
    """GET and DELETE /_emulator/sessions/{session} and ?session= on the journal."""
    server.add(SEQUENCE)
    for session in ("job-a", "job-b", "job-a"):
        request(
            server.url,
            body={"model": "m", "messages": MESSAGES},
            headers={"X-Emulator-Session": session},
        )
    listed = request(server.url, "GET", "/_emulator/sessions").json()
    assert listed == {"sessions": ["job-a", "job-b"]}
    one = request(server.url, "GET", "/_emulator/sessions/job-a").json()
    assert one["calls"] == {"steps": 2}
    assert [r["session"] for r in one["requests"]] == ["job-a", "job-a"]
    journal = request(server.url, "GET", "/_emulator/requests?session=job-b").json()
    assert [r["seq"] for r in journal["requests"]] == [2]
    reset = request(server.url, "DELETE", "/_emulator/sessions/job-a").json()
    assert reset == {"reset": "job-a", "deleted": 2}
    assert request(server.url, "GET", "/_emulator/sessions/job-a").json()["calls"] == {"steps": 0}
    assert request(server.url, "GET", "/_emulator/sessions/job-b").json()["calls"] == {"steps": 1}


def test_a_bad_session_header_is_a_400(server: EmulatorServer) -> None:
    """An over-long session name gets a 400 in the router's envelope naming the header."""
    answer = request(
        server.url,
        body={"model": "m", "messages": MESSAGES},
        headers={"X-Emulator-Session": "x" * 200},
    )
    assert answer.status == 400
    assert answer.json()["error"]["message"] == (
        "header X-Emulator-Session must be 1 to 128 printable characters"
    )


def test_sessions_have_their_own_quotas(server: EmulatorServer) -> None:
    """With rpm=1, each session may make one request a minute under the same key."""
    server.configure(rpm=1)
    body = {"model": "m", "messages": MESSAGES}
    statuses = [
        request(server.url, body=body, headers={"X-Emulator-Session": s}).status
        for s in ("job-a", "job-a", "job-b")
    ]
    assert statuses == [200, 429, 200]


def test_session_counters_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_SESSIONS, a new session forgets the oldest one's counters."""
    monkeypatch.setattr(state, "MAX_SESSIONS", 2)
    scenarios = ScenarioState(load_text(SEQUENCE))
    chat = ChatRequest({"model": "m", "messages": MESSAGES})
    for session in ("a", "b", "c"):
        scenarios.select(chat, session=session)
    assert scenarios.sessions() == ["b", "c"]
    assert scenarios.select(chat, session="a").call_number == 1


# --- sessions by URL -----------------------------------------------------------------------------


def test_a_session_url_is_a_session(server: EmulatorServer) -> None:
    """/session/NAME/v1 and /session/NAME/api/v1 put requests in NAME, as the header does; the
    journal keeps the path the client used."""
    server.add(SEQUENCE)
    body = {"model": "m", "messages": MESSAGES}
    for path in ("/session/job-a/v1/chat/completions", "/session/job-a/api/v1/chat/completions"):
        assert request(server.url, path=path, body=body).status == 200
    request(server.url, body=body, headers={"X-Emulator-Session": "job-a"})
    a = server.session("job-a")
    assert [e.call_number for e in a.requests] == [1, 2, 3]
    assert a.requests[0].path == "/session/job-a/v1/chat/completions"


def test_the_sdk_reaches_every_api_route_of_a_session_url(server: EmulatorServer) -> None:
    """The SDK with a session's base_url lists models and completes; a name with `/` and spaces
    travels percent-encoded."""
    server.add(SEQUENCE)
    name = "tests/test_x.py::test_y[a b]"
    view = server.session(name)
    assert view.base_url == server.url + "/session/tests%2Ftest_x.py%3A%3Atest_y%5Ba%20b%5D/v1"
    client = openai.OpenAI(base_url=view.base_url, api_key=server.api_key, max_retries=0)
    assert client.models.list().data
    reply = client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)
    assert reply.choices[0].message.content == "first"
    assert [e.session for e in server.requests] == [name]


def test_dot_session_names_stay_in_their_session(server: EmulatorServer) -> None:
    """Sessions named "." and ".." get encoded URLs the SDK does not resolve away."""
    for name in (".", ".."):
        view = server.session(name)
        client = openai.OpenAI(base_url=view.base_url, api_key=server.api_key, max_retries=0)
        client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)
        assert server.last_request.session == name


def test_the_url_session_wins_over_the_header(server: EmulatorServer) -> None:
    """A request to a session URL that also sends the header is in the URL's session."""
    request(
        server.url,
        path="/session/job-a/v1/chat/completions",
        body={"model": "m", "messages": MESSAGES},
        headers={"X-Emulator-Session": "job-b"},
    )
    assert server.last_request.session == "job-a"


def test_a_bad_session_in_the_url_is_a_400(server: EmulatorServer) -> None:
    """A blank or over-long session segment is a 400 in the router's envelope naming it."""
    for segment in ("%20", "x" * 129):
        answer = request(server.url, "GET", f"/session/{segment}/v1/models")
        assert answer.status == 400
        assert answer.json()["error"]["message"] == (
            "the session in the URL (/session/NAME/...) must be 1 to 128 printable characters"
        )


def test_admin_routes_have_no_session_url(server: EmulatorServer) -> None:
    """Only the router's API is mirrored: /session/NAME/_emulator/... is a 404."""
    assert request(server.url, "GET", "/session/job-a/_emulator/requests").status == 404
