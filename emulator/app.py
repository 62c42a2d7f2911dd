"""create_app(config) → the aiohttp application: routes, middleware (and the hot route's front,
emulator/front.py), app state."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from emulator import admin, front, handlers, inspector, routerapi, sessionurls, stats, warmup
from emulator.config import Config
from emulator.errors import RequestError, error_envelope
from emulator.handlers import EMULATOR, ENTRY
from emulator.journal import printable
from emulator.runtime import Emulator
from emulator.scenario import Scenario
from emulator.writer import ClientGone

log = logging.getLogger("emulator")
access_log = logging.getLogger("emulator.access")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One access-log line per request, on every route: method, path, status, scenario,
    duration, and whether the client went away or the server stopped the request. Names a
    client or a scenario chose are escaped (`printable`): they cannot forge log lines."""
    start = asyncio.get_running_loop().time()
    status: int | None = None
    note = ""
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:
        note = _cancelled_note(request)
        raise
    finally:
        _log_access(request, start, status, note)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error outside the chat handler still answers in the router's envelope, never HTML."""
    try:
        return await handler(request)
    except Exception as exc:
        response = _error_response(request, exc)
        if response is None:
            raise
        return response


async def serve_directly(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`handler` as the two middlewares above run it (the same access-log line, the same
    envelope for an error), in one coroutine: the hot route's way in (emulator/front.py)."""
    start = asyncio.get_running_loop().time()
    status: int | None = None
    note = ""
    try:
        try:
            response = await handler(request)
        except Exception as exc:
            error = _error_response(request, exc)
            if error is None:
                raise
            response = error
        status = response.status
        return response
    except asyncio.CancelledError:
        note = _cancelled_note(request)
        raise
    finally:
        _log_access(request, start, status, note)


def _cancelled_note(request: web.Request) -> str:
    return " (server shutdown)" if request.app[EMULATOR].stopping else " (client aborted)"


def _log_access(request: web.Request, start: float, status: int | None, note: str) -> None:
    """The access-log line of `request`, begun at loop time `start` (s); what the journal entry
    says of its status, scenario and ending wins over `status` and `note`."""
    entry = request.get(ENTRY)
    scenario = "-"
    if entry is not None:
        status = entry.status or status
        scenario = printable(entry.scenario) if entry.scenario else "-"
        if entry.client_aborted:
            note = " (client aborted)"
        elif entry.outcome == "server_shutdown":
            note = " (server shutdown)"
        elif entry.outcome == "server_reset":
            note = " (cancelled by a reset)"
    access_log.info(
        "%s %s %s scenario=%s %.1fms%s",
        printable(request.method),
        printable(request.path),
        status or "-",
        scenario,
        (asyncio.get_running_loop().time() - start) * 1000,
        note,
    )


def _error_response(request: web.Request, exc: Exception) -> web.Response | None:
    """The envelope answering `exc` (call it in the `except` block: an unexpected error is
    logged with its traceback), or None for an HTTPException under 400 (a redirect), which
    aiohttp answers itself."""
    if isinstance(exc, RequestError):
        return web.json_response(exc.envelope(), status=exc.status, headers=exc.headers)
    if isinstance(exc, ClientGone):  # the client left mid-body: nobody to answer
        return web.Response(status=499)
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            return None
        message = (
            exc.reason if exc.status != 404 else f"no route for {request.method} {request.path}"
        )
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return web.json_response(
            error_envelope(exc.status, message), status=exc.status, headers=headers
        )
    log.exception(
        "unexpected error while answering %s %s",
        printable(request.method),
        printable(request.path),
    )
    return web.json_response(error_envelope(500, "Internal Server Error"), status=500)


def create_app(
    config: Config | None = None,
    scenarios: Iterable[Scenario] = (),
    emulator: Emulator | None = None,
    *,
    background_warm_up: bool = False,
) -> web.Application:
    """The emulator as an aiohttp app, for web.AppRunner or pytest-aiohttp's aiohttp_client.

    The tokenizer is built as the app starts, before it serves; with `background_warm_up`
    (`chat-emulator serve`) it is built in the background after the server is listening
    instead, so the server answers sooner after it is started (see `emulator.warmup`)."""
    config = config or Config()
    emulator = emulator or Emulator(config, scenarios)
    middlewares = [access_middleware, error_middleware]
    app = web.Application(middlewares=middlewares, client_max_size=config.max_body_bytes)
    app[EMULATOR] = emulator
    hot_routes = {}
    for prefix in ("/v1", "/api/v1"):
        path = f"{prefix}/chat/completions"
        hot_routes[path] = app.router.add_post(path, handlers.chat_completions)
    for path in ("/openapi.json", "/v1/openapi.json"):
        app.router.add_get(path, handlers.openapi_json)
    routerapi.add_routes(app)
    stats.add_routes(app)
    sessionurls.add_routes(app)  # after the API's routes: a twin of each under /session/NAME
    admin.add_routes(app)
    inspector.add_routes(app)
    if config.record_mode is not None:
        from emulator import proxy

        proxy.install(app, emulator)
    app.on_startup.append(warmup.in_background if background_warm_up else warmup.before_serving)
    app.on_shutdown.append(_cancel_streams)
    front.install(app, hot_routes, serve_directly, middlewares)
    return app


async def _cancel_streams(app: web.Application) -> None:
    emulator = app[EMULATOR]
    emulator.stopping = True
    emulator.cancel_open_streams("shutdown")
