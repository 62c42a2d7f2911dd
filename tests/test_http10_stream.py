"""A stream answered to an HTTP/1.0 client: HTTP/1.0 has no chunked encoding, so the body ends
when the server closes the connection, whatever keep-alive the client asked for."""

from __future__ import annotations

import json
import socket

import pytest

from emulator.testing import EmulatorServer

BODY = json.dumps(
    {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
).encode()


def _exchange(server: EmulatorServer, connection: bytes) -> bytes:
    """Send one HTTP/1.0 streaming request; everything received until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.0\r\nHost: t\r\nAuthorization: Bearer k\r\n"
            b"Content-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s"
            % (connection, len(BODY), BODY)
        )
        received = b""
        while chunk := sock.recv(65536):  # a socket.timeout here: the server never closed
            received += chunk
    return received


@pytest.mark.parametrize("connection", [b"", b"Connection: keep-alive\r\n"])
def test_http10_stream_ends_with_the_connection(server: EmulatorServer, connection: bytes) -> None:
    """The whole stream arrives, ending in [DONE], and the server then closes the connection;
    the head does not promise keep-alive."""
    received = _exchange(server, connection)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK\r\n")
    assert b"\r\nconnection: close" in head.lower()
    assert b"keep-alive" not in head.lower()
    assert b"transfer-encoding" not in head.lower()
    assert body.endswith(b"data: [DONE]\n\n")


def test_http10_stream_journals_the_connection_header_it_sent(server: EmulatorServer) -> None:
    """The journal's response headers are the ones sent: `Connection: close` for an HTTP/1.0
    stream, not the keep-alive the planned head carried."""
    server.reset()
    _exchange(server, b"Connection: keep-alive\r\n")
    (entry,) = server.requests
    assert entry.response_headers["Connection"] == "close"
