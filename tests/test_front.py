"""The hot route's front (emulator/front.py): POST to the chat paths skips aiohttp's router and
middleware chain, and answers byte for byte as the normal path does, edge cases included."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from aiohttp.web_urldispatcher import UrlDispatcher

from emulator import front
from emulator.app import access_middleware, create_app, error_middleware, serve_directly
from emulator.config import Config
from emulator.errors import RequestError
from emulator.handlers import EMULATOR
from emulator.testing import EmulatorServer

AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
FIXED_TIME = 1735689600
BODY = b'{"model":"openai/gpt-4o","messages":[{"role":"user","content":"hi"}]}'
MAX_BODY = 64 * 1024
STREAM = b'{"model":"openai/gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}'


@pytest.fixture
def resolves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths aiohttp's router is asked to resolve from now on (in any server's thread)."""
    seen: list[str] = []
    resolve = UrlDispatcher.resolve

    async def counting(self: UrlDispatcher, request: web.Request) -> Any:
        seen.append(request.path)
        return await resolve(self, request)

    monkeypatch.setattr(UrlDispatcher, "resolve", counting)
    return seen


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[EmulatorServer, EmulatorServer]]:
    """Two servers alike but for the front: one as shipped, one with every request routed."""
    config = Config(fixed_time=FIXED_TIME, max_body_bytes=MAX_BODY)
    fast = EmulatorServer(config).start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(front, "install", lambda *args: None)
        normal = EmulatorServer(config).start()
    yield fast, normal
    fast.stop()
    normal.stop()


def exchange(port: int, head: bytes, body: bytes = BODY) -> bytes:
    """Send one request (`head`: request line and headers, no blank line; Content-Length and
    Connection: close added) and read every byte until the server closes, Date blanked."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            head + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return re.sub(rb"\r\nDate: [^\r]*", b"\r\nDate: -", b"".join(chunks))


HEADERS = b"\r\nHost: t\r\nAuthorization: Bearer k\r\nContent-Type: application/json"
CASES = {
    "v1": (b"POST /v1/chat/completions HTTP/1.1" + HEADERS, BODY),
    "api v1": (b"POST /api/v1/chat/completions HTTP/1.1" + HEADERS, BODY),
    "stream": (b"POST /v1/chat/completions HTTP/1.1" + HEADERS, STREAM),
    "query string": (b"POST /v1/chat/completions?a=1&b=%20 HTTP/1.1" + HEADERS, BODY),
    "percent-encoded letter": (b"POST /v1/chat/%63ompletions HTTP/1.1" + HEADERS, BODY),
    "percent-encoded slash": (b"POST /v1/chat%2Fcompletions HTTP/1.1" + HEADERS, BODY),
    "trailing slash": (b"POST /v1/chat/completions/ HTTP/1.1" + HEADERS, BODY),
    "double slash": (b"POST //v1/chat/completions HTTP/1.1" + HEADERS, BODY),
    "GET": (b"GET /v1/chat/completions HTTP/1.1" + HEADERS, b""),
    "HEAD": (b"HEAD /v1/chat/completions HTTP/1.1" + HEADERS, b""),
    "PUT": (b"PUT /api/v1/chat/completions HTTP/1.1" + HEADERS, BODY),
    "lower-case post": (b"post /v1/chat/completions HTTP/1.1" + HEADERS, BODY),
    "HTTP/1.0": (b"POST /v1/chat/completions HTTP/1.0" + HEADERS, BODY),
    "no key": (b"POST /v1/chat/completions HTTP/1.1\r\nHost: t", BODY),
    "bad JSON": (b"POST /v1/chat/completions HTTP/1.1" + HEADERS, b'{"model":'),
    "invalid request": (b"POST /v1/chat/completions HTTP/1.1" + HEADERS, b'{"model":"m"}'),
    "Expect: 100-continue": (
        b"POST /v1/chat/completions HTTP/1.1" + HEADERS + b"\r\nExpect: 100-continue",
        BODY,
    ),
    "Expect: other": (b"POST /v1/chat/completions HTTP/1.1" + HEADERS + b"\r\nExpect: x", BODY),
    "over client_max_size": (
        b"POST /v1/chat/completions HTTP/1.1" + HEADERS,
        b'{"pad":"' + b"x" * MAX_BODY + b'"}',
    ),
    "session twin": (b"POST /session/s1/v1/chat/completions HTTP/1.1" + HEADERS, BODY),
    "models": (b"GET /v1/models HTTP/1.1" + HEADERS, b""),
}
# Answered by aiohttp before any handler (no access-log line on either path).
BEFORE_ANY_HANDLER = {"lower-case post", "Expect: other"}


@pytest.mark.parametrize("case", CASES)
def test_the_front_answers_as_the_router_does(
    case: str, servers: tuple[EmulatorServer, EmulatorServer], caplog: pytest.LogCaptureFixture
) -> None:
    """Same bytes on the wire, same access-log line and journal entry, with and without it."""
    head, body = CASES[case]
    answers, lines, journals = [], [], []
    for server in servers:
        server.reset()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="emulator.access"):
            answers.append(exchange(server.port, head, body))
        lines.append([access_line(r) for r in caplog.records if r.name == "emulator.access"])
        journals.append([(e.method, e.path, e.status, e.outcome) for e in server.requests])
    assert answers[0] == answers[1]
    assert lines[0] == lines[1]
    assert len(lines[0]) == (0 if case in BEFORE_ANY_HANDLER else 1)
    assert journals[0] == journals[1]


def access_line(record: logging.LogRecord) -> str:
    """An access-log line without its duration."""
    return re.sub(r" \d+\.\dms", " <ms>", record.getMessage())


def test_the_chat_routes_skip_the_router(
    servers: tuple[EmulatorServer, EmulatorServer], resolves: list[str]
) -> None:
    """POST to either chat path is not resolved by the router; other routes, the session twins
    and the same request on the server without the front are."""
    fast, normal = servers
    for path in (b"/v1/chat/completions", b"/api/v1/chat/completions?x=1"):
        assert b" 200 OK" in exchange(fast.port, b"POST " + path + b" HTTP/1.1" + HEADERS)
    assert resolves == []
    exchange(fast.port, b"POST /session/a/v1/chat/completions HTTP/1.1" + HEADERS)
    exchange(fast.port, b"GET /v1/chat/completions HTTP/1.1" + HEADERS, b"")
    exchange(normal.port, b"POST /v1/chat/completions HTTP/1.1" + HEADERS)
    assert resolves == [
        "/session/a/v1/chat/completions",
        "/v1/chat/completions",
        "/v1/chat/completions",
    ]


async def test_the_test_client_takes_the_front_too(
    aiohttp_client: AiohttpClient, resolves: list[str]
) -> None:
    """pytest-aiohttp's test server serves an app from create_app through the front as well,
    with request.app and request.match_info as the router would set them."""
    app = create_app(Config(fixed_time=FIXED_TIME))
    seen: list[tuple[web.Application, str, dict[str, str]]] = []

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        resource = request.match_info.route.resource
        assert resource is not None
        seen.append((request.app, resource.canonical, dict(request.match_info)))

    app.on_response_prepare.append(on_prepare)
    client = await aiohttp_client(app)
    auth = {"Authorization": "Bearer k", "Content-Type": "application/json"}
    response = await client.post("/api/v1/chat/completions", data=BODY, headers=auth)
    assert response.status == 200
    assert resolves == []
    assert seen == [(app, "/api/v1/chat/completions", {})]


async def test_an_added_middleware_turns_the_front_off(
    aiohttp_client: AiohttpClient, resolves: list[str]
) -> None:
    """A middleware added to the app after create_app runs for the chat route too: the front
    stands aside rather than skip it."""
    app = create_app(Config(fixed_time=FIXED_TIME))
    passed: list[str] = []

    @web.middleware
    async def mine(request: web.Request, handler: Any) -> web.StreamResponse:
        passed.append(request.path)
        return await handler(request)

    app.middlewares.append(mine)
    client = await aiohttp_client(app)
    response = await client.post(
        "/v1/chat/completions",
        data=BODY,
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
    )
    assert response.status == 200
    assert passed == resolves == ["/v1/chat/completions"]


async def _raise(exc: BaseException, request: web.Request) -> web.StreamResponse:
    raise exc


ERRORS: dict[str, BaseException] = {
    "RequestError": RequestError(429, "slow down", headers={"Retry-After": "3"}),
    "404": web.HTTPNotFound(),
    "405 with Allow": web.HTTPMethodNotAllowed("GET", ["POST"]),
    "413": web.HTTPRequestEntityTooLarge(max_size=10, actual_size=20),
    "unexpected": ValueError("boom"),
}


@pytest.mark.parametrize("name", ERRORS)
async def test_errors_get_the_middlewares_answer(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An error out of the handler gets the same envelope, headers and log lines from the
    front's coroutine as from the two middlewares."""
    handler = functools.partial(_raise, ERRORS[name])
    answers = []
    for serve in (serve_directly, chained):
        caplog.clear()
        request = make_mocked_request("POST", "/v1/chat/completions", app=create_app())
        with caplog.at_level(logging.INFO, logger="emulator"):
            response = await serve(request, handler)
        assert isinstance(response, web.Response)
        logged = [
            (r.name, r.levelname, access_line(r), r.exc_info is not None) for r in caplog.records
        ]
        answers.append(
            (
                response.status,
                response.body,
                response.headers.get("Allow"),
                response.headers.get("Retry-After"),
                logged,
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][0] == getattr(ERRORS[name], "status", 500)


@pytest.mark.parametrize("stopping", [False, True])
async def test_cancellation_is_logged_as_by_the_middleware(
    stopping: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A cancelled request logs "(client aborted)", or "(server shutdown)" while stopping, and
    a redirect raised by a handler is raised on, on both ways in."""
    lines = []
    for serve in (serve_directly, chained):
        app = create_app()
        app[EMULATOR].stopping = stopping
        request = make_mocked_request("POST", "/v1/chat/completions", app=app)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="emulator.access"):
            with pytest.raises(asyncio.CancelledError):
                await serve(request, functools.partial(_raise, asyncio.CancelledError()))
            with pytest.raises(web.HTTPFound):
                await serve(request, functools.partial(_raise, web.HTTPFound("/x")))
        lines.append([access_line(r) for r in caplog.records])
    assert lines[0] == lines[1]
    note = "(server shutdown)" if stopping else "(client aborted)"
    assert lines[0] == [
        f"POST /v1/chat/completions - scenario=- <ms> {note}",
        "POST /v1/chat/completions - scenario=- <ms>",
    ]


async def chained(request: web.Request, handler: Any) -> web.StreamResponse:
    """The handler as aiohttp's middleware chain runs it: access, then error, then handler."""
    return await access_middleware(request, functools.partial(error_middleware, handler=handler))


@pytest.mark.parametrize("ending", ["client aborted", "cancelled by a reset"])
def test_a_cut_request_is_logged_alike(
    ending: str, servers: tuple[EmulatorServer, EmulatorServer], caplog: pytest.LogCaptureFixture
) -> None:
    """A request the client abandons, or a reset cancels, logs the same line either way in."""
    lines = []
    for server in servers:
        server.reset()
        server.add({"name": "slow", "reply": {"content": "x", "delay_ms": 60_000}})
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="emulator.access"):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(
                b"POST /v1/chat/completions HTTP/1.1" + HEADERS + b"\r\nContent-Length: %d"
                b"\r\n\r\n%s" % (len(BODY), BODY)
            )
            deadline = time.monotonic() + 10
            while not server.requests and time.monotonic() < deadline:
                time.sleep(0.01)
            if ending == "client aborted":
                sock.close()
            else:
                server.reset()
            while not caplog.records and time.monotonic() < deadline:
                time.sleep(0.01)
            sock.close()
        lines.append([access_line(r) for r in caplog.records])
    assert lines[0] == lines[1] == [f"POST /v1/chat/completions 200 scenario=slow <ms> ({ending})"]
