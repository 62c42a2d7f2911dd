"""The HTTP layer under the app: malformed HTTP answered in the router's envelope, idle and
header timeouts, and a connection limit. Used by `chat-emulator serve` and `EmulatorServer`.

aiohttp answers a request it cannot parse (a header over 8,190 bytes, a control character, a
bad Content-Length, a broken request line) from `RequestHandler.handle_error` with a
`text/plain` page echoing the bytes, and logs a traceback. Here that method answers in the
router's error envelope instead (431 for an oversized header, 400 otherwise), logs one debug
line, and the connection closes after the answer, as aiohttp already does for these.
"""

from __future__ import annotations

import asyncio
import logging
import re
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, ContentEncodingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from emulator.bodyparse import unsupported_encoding_message
from emulator.config import Config
from emulator.errors import error_envelope
from emulator.journal import printable

log = logging.getLogger("emulator")
_NEVER_S = 10 * 365 * 86400.0  # aiohttp reads a keep-alive timeout of 0 as "close at once"


class EnvelopeRequestHandler(RequestHandler):
    """aiohttp's protocol, with its own error pages replaced by the router's envelope."""

    def data_received(self, data: bytes) -> None:
        """As aiohttp's, except for a parse error in the body of a request being handled (bad
        chunked data arriving after the headers): aiohttp queues it as a new request and the
        handler waits for the rest of its body forever; here that body fails instead, so the
        handler answers 400 (see handlers.read_body)."""
        request = getattr(self, "_current_request", None)
        messages = getattr(self, "_messages", None)
        queued = len(messages) if messages is not None else 0
        super().data_received(data)
        if request is None or messages is None or len(messages) <= queued:
            return
        error = messages[-1][0]
        if getattr(error, "exc", None) is None or request.content.is_eof():
            return
        messages.pop()
        request.content.set_exception(web.RequestPayloadError(str(error.exc)))

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Called for a request aiohttp could not parse (status 400) or a handler that failed
        outside the app's own error handling (500); answers in the envelope and closes."""
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already started; cannot answer the error")
        status, text = _describe(status, exc)
        log.debug("malformed request from %s: %s", request.remote, printable(text))
        body = error_envelope(status, text)
        response = web.json_response(body, status=status)
        response.force_close()
        return response


def _describe(status: int, exc: BaseException | None) -> tuple[int, str]:
    if status >= 500 or exc is None:
        return status, HTTPStatus(status).phrase
    if isinstance(exc, LineTooLong):
        # aiohttp raises the same error for a long header and a long request line.
        return 431, "request header (or request line) too large: the limit is 8190 bytes"
    if isinstance(exc, ContentEncodingError) and (coding := _CODING.search(str(exc))):
        # aiohttp knows br and zstd but decodes them only with optional packages installed.
        return 415, unsupported_encoding_message(coding.group(1))
    if isinstance(exc, BadHttpMethod):
        return 400, "malformed HTTP request: unknown method, or not HTTP at all"
    # aiohttp's message is a line of text, then the offending bytes with a caret under them.
    reason = str(getattr(exc, "message", None) or exc or type(exc).__name__)
    first = reason.strip().splitlines()[0].rstrip(":") if reason.strip() else "unparseable"
    return 400, f"malformed HTTP request: {printable(first)[:200]}"


_CODING = re.compile(r"content-encoding: \w+ \((\w+)\)")


class LimitedServer(web.Server):
    """aiohttp's low-level server with our protocol class and a cap on open connections:
    one beyond `max_connections` is closed as it is accepted, with one warning per burst
    (not one line per refused connection)."""

    max_connections = 0
    _over_limit = False

    def __call__(self) -> RequestHandler:
        return EnvelopeRequestHandler(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        open_now = len(self._connections)
        if self.max_connections and open_now > self.max_connections:
            if not self._over_limit:
                self._over_limit = True
                log.warning(
                    "connection limit of %d reached: closing new connections until some end",
                    self.max_connections,
                )
            handler.force_close()
        elif self._over_limit and open_now <= self.max_connections * 9 // 10:
            self._over_limit = False
            log.info("connections back under the limit (%d open)", open_now)


class Runner(web.AppRunner):
    """`web.AppRunner` serving through `LimitedServer`, with the config's timeouts."""

    def __init__(self, app: web.Application, config: Config, **kwargs: Any) -> None:
        # keepalive_timeout closes a connection that has no complete request head after it
        # opened or after its last response: both the header and the idle timeout.
        idle_s = config.idle_timeout_ms / 1000 if config.idle_timeout_ms > 0 else _NEVER_S
        kwargs.setdefault("handler_cancellation", True)
        kwargs.setdefault("access_log", None)
        super().__init__(app, keepalive_timeout=idle_s, **kwargs)
        self._max_connections = config.max_connections

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # Same state, our subclass's behaviour: aiohttp builds the server inside the app
        # (Application._make_handler) with no hook for its class.
        server.__class__ = LimitedServer
        assert isinstance(server, LimitedServer)
        server.max_connections = self._max_connections
        return server
