"""How a stream's bytes leave the server: the headers share the first event's write when that
event is due at once, and leave alone when the first event waits (a client waiting for the
headers, as the SDKs do before returning a stream, gets them at once)."""

from __future__ import annotations

import asyncio.selector_events
from typing import Any

import httpx
import pytest

from emulator.testing import EmulatorServer

Transport = asyncio.selector_events._SelectorSocketTransport  # the loop's TCP transport


def _server_writes(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record every write the server makes on its sockets (not the client's)."""
    writes: list[bytes] = []
    write = Transport.write

    def recording_write(self: Any, data: Any) -> None:
        sockname = self.get_extra_info("sockname")
        if sockname is not None and sockname[1] == server.port:
            writes.append(bytes(data))
        write(self, data)

    monkeypatch.setattr(Transport, "write", recording_write)
    return writes


def _stream(server: EmulatorServer) -> bytes:
    body = {
        "model": "openai/gpt-4o",
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
    }
    with httpx.Client() as client:
        response = client.post(
            server.base_url + "/chat/completions",
            json=body,
            headers={"Authorization": "Bearer sk-test"},
        )
    assert response.status_code == 200
    return response.content


def test_headers_leave_with_the_first_event_due_at_once(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream with no delays is one write: status line, headers, every event, terminator."""
    server.add("name: quick\nreply: {content: one two three}\n")
    writes = _server_writes(server, monkeypatch)
    body = _stream(server)
    assert len(writes) == 1
    (sent,) = writes
    assert sent.startswith(b"HTTP/1.1 200 OK\r\n")
    head, _, rest = sent.partition(b"\r\n\r\n")
    assert b"text/event-stream" in head
    assert b": OPENROUTER PROCESSING" in rest and rest.endswith(b"0\r\n\r\n")
    assert body.endswith(b"data: [DONE]\n\n")


def test_headers_leave_alone_when_the_first_event_waits(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand-written stream that starts with a wait sends its headers before waiting."""
    server.add(
        "name: slow\nreply:\n  stream:\n    events:\n"
        "      - wait_ms: 50\n      - content: hi\n      - done: true\n"
    )
    writes = _server_writes(server, monkeypatch)
    body = _stream(server)
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"\r\n\r\n")
    assert b"data: " not in writes[0]
    assert len(writes) >= 2
    assert body.endswith(b"data: [DONE]\n\n")
