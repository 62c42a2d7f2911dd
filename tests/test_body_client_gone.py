"""A client that closes its connection while the server still reads its request body is a client
abort like any other: journaled and logged as such, never an "unexpected error" with a
traceback and a 500."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from emulator.journal import JournalEntry
from emulator.testing import EmulatorServer

BODY = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'


def _finished_entry(server: EmulatorServer) -> JournalEntry:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        entries = server.requests
        if entries and entries[-1].duration_ms is not None:
            return entries[-1]
        time.sleep(0.02)
    raise AssertionError("the request never finished")


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/session/s1/v1/chat/completions"])
def test_client_gone_mid_body_is_a_client_abort(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    """Half a body, then the client closes: journaled as client_aborted, one access-log line
    saying so, nothing logged as an unexpected error."""
    with caplog.at_level(logging.INFO, logger="emulator"):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (path.encode(), len(BODY), BODY[:20])
        )
        time.sleep(0.2)  # the server is now waiting for the rest of the body
        sock.close()
        entry = _finished_entry(server)
    assert (entry.outcome, entry.client_aborted) == ("client_aborted", True)
    assert entry.status != 500
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    lines = [r.getMessage() for r in caplog.records if r.name == "emulator.access"]
    assert len(lines) == 1 and lines[0].endswith(" (client aborted)")


def test_session_url_access_line_names_the_scenario(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A chat request under /session/NAME/ logs the scenario it matched, as the plain path does."""
    server.add({"name": "greet", "reply": {"content": "hi"}})
    with caplog.at_level(logging.INFO, logger="emulator.access"):
        for path in ("/v1/chat/completions", "/session/s1/v1/chat/completions"):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(
                    b"POST %s HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
                    b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                    b"Connection: close\r\n\r\n%s" % (path.encode(), len(BODY), BODY)
                )
                while sock.recv(65536):
                    pass
    lines = [
        r.getMessage().rsplit(" ", 1)[0] for r in caplog.records if r.name == "emulator.access"
    ]
    assert lines == [
        "POST /v1/chat/completions 200 scenario=greet",
        "POST /session/s1/v1/chat/completions 200 scenario=greet",
    ]


def test_client_gone_mid_admin_body_is_not_an_error(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The same on an admin route (POST /_emulator/scenarios): no "unexpected error" logged."""
    with caplog.at_level(logging.INFO, logger="emulator"):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(
            b"POST /_emulator/scenarios HTTP/1.1\r\nHost: t\r\n"
            b"Content-Type: application/yaml\r\nContent-Length: 100\r\n\r\nname: x\n"
        )
        time.sleep(0.2)  # the server is now waiting for the rest of the body
        sock.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            r.name == "emulator.access" for r in caplog.records
        ):
            time.sleep(0.02)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in caplog.records if r.name == "emulator.access"]
