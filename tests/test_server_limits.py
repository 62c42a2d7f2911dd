"""Bounded resources and honest logs: the journal's byte bound and dropped counts, credential
redaction, idle connections closed, the connection limit, one access-log line per request on
every route (control characters escaped), and a shutdown told apart from a client abort."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

import pytest
import requests

from emulator.journal import Journal, redact_headers
from emulator.testing import EmulatorServer

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
AUTH = {"Authorization": "Bearer k"}
MakeServer = Callable[..., EmulatorServer]


def chat(server: EmulatorServer, body: object = BODY, **headers: str) -> requests.Response:
    return requests.post(
        server.base_url + "/chat/completions", json=body, headers={**AUTH, **headers}, timeout=10
    )


# --- the journal -------------------------------------------------------------------------------


def test_journal_byte_bound_drops_oldest_entries_and_counts_them(make_server: MakeServer) -> None:
    """Past --journal-max-bytes the oldest entries go; the journal API reports how many."""
    server = make_server(journal_max_bytes=40_000)
    big = {**BODY, "messages": [{"role": "user", "content": "x" * 10_000}]}
    for _ in range(8):
        assert chat(server, big).status_code == 200
    journal = requests.get(server.url + "/_emulator/requests", timeout=10).json()
    kept = len(journal["requests"])
    assert kept >= 1
    assert kept < 8
    assert journal["dropped"] == 8 - kept
    assert journal["dropped_rejected"] == 0
    assert [e["seq"] for e in journal["requests"]] == list(range(9 - kept, 9))


def test_journal_entry_limit_counts_dropped_rejected_requests(make_server: MakeServer) -> None:
    """An invalid request pushed out by the entry limit is counted as a dropped rejection."""
    server = make_server(journal_limit=2)
    assert chat(server, {"model": "m"}).status_code == 400
    for _ in range(3):
        assert chat(server).status_code == 200
    journal = requests.get(server.url + "/_emulator/requests", timeout=10).json()
    assert (len(journal["requests"]), journal["dropped"], journal["dropped_rejected"]) == (2, 2, 1)
    report = server.problem_report()
    assert report is not None
    assert "1 of them left the journal since (journal limit)" in report
    server.reset()
    assert server.problem_report() is None


def test_journal_never_drops_the_entry_it_just_finished() -> None:
    """One entry bigger than the whole byte bound stays (the newest is never dropped)."""
    journal = Journal(limit=10, max_bytes=100)
    entry = journal.open("POST", "/v1/chat/completions", [], 0.0)
    entry.body_bytes = 10_000
    journal.finish(entry)
    assert journal.entries() == [entry]
    assert journal.dropped == 0


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("Authorization", "Bearer sk-secret", "Bearer <redacted>"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz", "Basic <redacted>"),
        ("Cookie", "session=abc; other=def", "<redacted>"),
        ("X-Api-Key", "sk-secret", "<redacted>"),
        ("X-Goog-Api-Key", "secret", "<redacted>"),
        ("X-Title", "my app", "my app"),
    ],
)
def test_credential_headers_are_redacted(name: str, value: str, shown: str) -> None:
    """Credentials (API keys, proxy credentials, cookies) never reach the journal in clear."""
    assert redact_headers([(name, value)]) == {name.lower(): shown}


def test_cookie_is_redacted_in_the_journal_api(server: EmulatorServer) -> None:
    """A Cookie sent with a request shows as <redacted> in GET /_emulator/requests."""
    chat(server, Cookie="session=s3cret")
    text = requests.get(server.url + "/_emulator/requests", timeout=10).text
    assert "s3cret" not in text
    assert '"cookie": "<redacted>"' in text


# --- connections -------------------------------------------------------------------------------


def test_silent_connection_is_closed(make_server: MakeServer) -> None:
    """A connection that never sends a request head is closed after the idle timeout."""
    server = make_server(idle_timeout_ms=200)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: t\r\n")  # never finishes the head
        assert sock.recv(1024) == b""


def test_connection_limit_closes_extra_connections_with_one_log_line(
    make_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Beyond --max-connections new connections are closed; the log says so once, not per
    connection; the server answers again once connections end."""
    server = make_server(max_connections=2)
    held = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(2)]
    time.sleep(0.2)  # let the server accept the two held connections first
    with caplog.at_level(logging.WARNING, logger="emulator"):
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as extra:
                assert closed_by_server(extra)
    warnings = [r.getMessage() for r in caplog.records if "connection limit" in r.getMessage()]
    assert warnings == ["connection limit of 2 reached: closing new connections until some end"]
    for sock in held:
        sock.close()
    time.sleep(0.2)  # let the server see them close
    assert requests.get(server.url + "/_emulator/health", timeout=10).status_code == 200


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed `sock` (a FIN or, with unread bytes, a reset) unanswered."""
    try:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: t\r\n\r\n")
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


# --- the access log ----------------------------------------------------------------------------


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "emulator.access"]


def test_every_route_gets_one_access_log_line(
    make_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Admin routes (also when refused with 401), models and chat each log exactly one line."""
    server = make_server(admin_token="t0ken")
    with caplog.at_level(logging.INFO, logger="emulator.access"):
        requests.get(server.url + "/_emulator/health", timeout=10)
        requests.get(
            server.url + "/_emulator/health", headers={"Authorization": "Bearer t0ken"}, timeout=10
        )
        requests.get(server.base_url + "/models", headers=AUTH, timeout=10)
        chat(server)
        requests.get(server.url + "/nowhere", timeout=10)
    lines = [line.rsplit(" ", 1)[0] for line in access_lines(caplog)]
    assert lines == [
        "GET /_emulator/health 401 scenario=-",
        "GET /_emulator/health 200 scenario=-",
        "GET /v1/models 200 scenario=-",
        "POST /v1/chat/completions 200 scenario=-",
        "GET /nowhere 404 scenario=-",
    ]


def test_control_characters_are_escaped_in_the_access_log(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A scenario name with CR/LF cannot forge a second access-log line."""
    server.add({"name": "evil\r\nGET /forged 200", "reply": {"content": "x"}})
    with caplog.at_level(logging.INFO, logger="emulator.access"):
        chat(server)
    (line,) = access_lines(caplog)
    assert "\n" not in line and "\r" not in line
    assert "scenario=evil\\r\\nGET /forged 200 " in line


def test_shutdown_is_logged_apart_from_a_client_abort(caplog: pytest.LogCaptureFixture) -> None:
    """A stream cut by the server stopping logs "(server shutdown)" and is journaled as such."""
    server = EmulatorServer().start()
    server.add({"name": "slow", "reply": {"content": "x", "delay_ms": 60_000}})
    with caplog.at_level(logging.INFO, logger="emulator.access"):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        body = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        deadline = time.monotonic() + 10
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        entry = server.requests[0]
        server.stop()
        sock.close()
    (line,) = access_lines(caplog)
    assert line.endswith(" (server shutdown)")
    assert (entry.outcome, entry.client_aborted) == ("server_shutdown", False)
