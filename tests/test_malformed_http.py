"""Malformed HTTP over a raw socket: every answer is the router's error envelope, nothing logs a
traceback, and a header byte that is not UTF-8 never breaks the journal."""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest

from emulator.testing import EmulatorServer

AUTH = b"Host: t\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\n"
BODY = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'


def exchange(server: EmulatorServer, *parts: bytes, pause_s: float = 0.0) -> bytes:
    """Send `parts` (pausing between them), then read until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for part in parts:
            sock.sendall(part)
            if pause_s:
                time.sleep(pause_s)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def status_and_error(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower()
    return status, json.loads(body)["error"]


CASES = [
    pytest.param(
        b"GET /v1/models HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
        431,
        "request header (or request line) too large",
        id="header-over-8k",
    ),
    pytest.param(
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        431,
        "request line) too large",
        id="request-line-over-8k",
    ),
    pytest.param(
        b"GET /v1/models HTTP/1.1\r\nHost: t\r\nX-Bad: a\x01b\r\n\r\n",
        400,
        "Invalid header value char",
        id="control-character",
    ),
    pytest.param(
        b"POST /v1/chat/completions HTTP/1.1\r\n" + AUTH + b"Content-Length: abc\r\n\r\n{}",
        400,
        "Content-Length",
        id="bad-content-length",
    ),
    pytest.param(
        b"FOO /v1/models HTTP/1.1\r\nHost: t\r\n\r\n",
        400,
        "unknown method",
        id="unknown-method",
    ),
    pytest.param(b"\x16\x03\x01\x00\xa5\x01\x00\r\n\r\n", 400, "not HTTP", id="tls-handshake"),
    pytest.param(
        b"POST /v1/chat/completions HTTP/1.1\r\n"
        + AUTH
        + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
        400,
        "chunk size",
        id="bad-chunk-with-headers",
    ),
]


@pytest.mark.parametrize(("request_bytes", "status", "words"), CASES)
def test_malformed_http_is_answered_in_the_envelope(
    server: EmulatorServer,
    caplog: pytest.LogCaptureFixture,
    request_bytes: bytes,
    status: int,
    words: str,
) -> None:
    """Malformed HTTP gets the envelope with the right status, and no traceback is logged."""
    with caplog.at_level(logging.DEBUG):
        answer = exchange(server, request_bytes)
    got_status, error = status_and_error(answer)
    assert (got_status, error["code"]) == (status, status)
    assert words in str(error["message"])
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_bad_chunk_after_the_headers_is_answered(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Bad chunked data arriving after the handler started still gets a 400 envelope."""
    head = b"POST /v1/chat/completions HTTP/1.1\r\n" + AUTH + b"Transfer-Encoding: chunked\r\n\r\n"
    answer = exchange(server, head, b'5\r\n{"mod\r\nzz\r\n', pause_s=0.2)
    status, error = status_and_error(answer)
    assert status == 400
    assert "chunk" in str(error["message"])
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_body_that_does_not_decode_is_a_400(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture, encoding: str
) -> None:
    """A body whose Content-Encoding does not decode gets a 400 naming it, no traceback."""
    head = b"POST /v1/chat/completions HTTP/1.1\r\n" + AUTH
    head += f"Content-Encoding: {encoding}\r\nContent-Length: 10\r\n\r\n".encode()
    answer = exchange(server, head + b"0123456789")
    status, error = status_and_error(answer)
    assert status == 400
    assert error["message"] == f"request body does not decode as Content-Encoding '{encoding}'"
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, gzip"])
def test_content_encoding_not_decoded_is_a_415(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture, encoding: str
) -> None:
    """A Content-Encoding the server does not decode is a 415 naming it, never read as JSON."""
    head = b"POST /v1/chat/completions HTTP/1.1\r\n" + AUTH + b"Connection: close\r\n"
    head += f"Content-Encoding: {encoding}\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
    status, error = status_and_error(exchange(server, head + BODY))
    assert status == 415
    assert error["message"] == (
        f"Content-Encoding {encoding!r} is not supported: send the body uncompressed or as "
        "gzip, deflate"
    )
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_gzip_body_that_decodes_is_accepted(server: EmulatorServer) -> None:
    """A well-formed gzip body is decoded and answered as usual."""
    import gzip

    packed = gzip.compress(BODY)
    head = b"POST /v1/chat/completions HTTP/1.1\r\n" + AUTH + b"Connection: close\r\n"
    head += f"Content-Encoding: gzip\r\nContent-Length: {len(packed)}\r\n\r\n".encode()
    answer = exchange(server, head + packed)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert server.last_request.body_bytes == len(BODY)


def test_non_utf8_header_is_journaled_safely(server: EmulatorServer) -> None:
    """`X-Title: Café` sent as latin-1 is journaled as an escape; the journal API answers 200."""
    head = b"POST /v1/chat/completions HTTP/1.1\r\n" + AUTH + b"X-Title: Caf\xe9\r\n"
    head += f"Connection: close\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
    assert exchange(server, head + BODY).startswith(b"HTTP/1.1 200 ")
    journal = exchange(
        server, b"GET /_emulator/requests HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    head_bytes, _, body = journal.partition(b"\r\n\r\n")
    assert head_bytes.startswith(b"HTTP/1.1 200 ")
    assert json.loads(body)["requests"][0]["headers"]["x-title"] == "Caf\\xe9"


def test_stalled_body_gets_a_408(make_server: object, caplog: pytest.LogCaptureFixture) -> None:
    """A body that stops arriving before its Content-Length gets a 408 envelope, then a close."""
    server = make_server(idle_timeout_ms=300)  # type: ignore[operator]
    head = b"POST /v1/chat/completions HTTP/1.1\r\n" + AUTH + b"Content-Length: 100\r\n\r\n"
    status, error = status_and_error(exchange(server, head + b'{"model":'))
    assert status == 408
    assert "stalled" in str(error["message"])
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
