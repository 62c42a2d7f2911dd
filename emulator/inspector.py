"""The inspector's routes: the page at /_emulator/ui (static files shipped in the package), the
journal as a live event stream (/_emulator/events), one request in detail, and a reload of the
scenario files the server was started with. Same admin-token rules as the admin API.

With an admin token, `/_emulator/ui?token=<admin token>` sets an HttpOnly, SameSite=Strict cookie
(path /_emulator) and redirects to the page, so the page's own requests (and its EventSource,
which cannot send headers) carry the token without putting it in every URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
from importlib import resources
from typing import Any, NoReturn

from aiohttp import web

from emulator import genstats, inspection
from emulator.admin import ADMIN_COOKIE, PREFIX, admin_emulator, journal_entry
from emulator.errors import RequestError, ScenarioError
from emulator.handlers import EMULATOR
from emulator.journal import JournalEntry
from emulator.loader import load_paths

UI_PATH = f"{PREFIX}/ui"
EVENTS_PATH = f"{PREFIX}/events"
ASSETS = {
    "index.html": "text/html",
    "inspector.css": "text/css",
    # ES modules: the page's script imports the others (no build step, no bundler).
    "inspector.js": "text/javascript",
    "dom.js": "text/javascript",
    "detail.js": "text/javascript",
    "timeline.js": "text/javascript",
}
# Nothing but the emulator itself: the page loads no code, style or font from anywhere else.
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"
HEARTBEAT_S = 15.0
QUEUE_LIMIT = 1000  # pending journal changes per subscriber; past it the page gets a snapshot
_STOP = "stop"
_SNAPSHOT = "snapshot"

Change = tuple[str, JournalEntry | None]
Subscribers = set[asyncio.Queue[Change]]
SUBSCRIBERS = web.AppKey("inspector_subscribers", Subscribers)


def add_routes(app: web.Application) -> None:
    """Register the inspector's routes on `app` (create_app does)."""
    app[SUBSCRIBERS] = set()
    app.router.add_get(UI_PATH, get_page)
    app.router.add_get(f"{UI_PATH}/{{name}}", get_asset)
    app.router.add_get(EVENTS_PATH, get_events)
    app.router.add_get(f"{PREFIX}/requests/{{seq:[^/]+}}", get_request)
    app.router.add_get(f"{PREFIX}/requests/{{seq}}/raw", get_raw)
    app.router.add_post(f"{PREFIX}/scenarios/reload", post_reload)
    app.on_shutdown.append(_stop_subscribers)


# --- the page ------------------------------------------------------------------------------------


async def get_page(request: web.Request) -> web.StreamResponse:
    """The inspector page. `?token=` (when the server has an admin token) sets the cookie and
    redirects to the page without it."""
    token = request.query.get("token")
    if token is not None:
        _login(request, token)
    admin_emulator(request)
    return _asset_response("index.html")


def _login(request: web.Request, token: str) -> NoReturn:
    expected = request.app[EMULATOR].config.admin_token
    if expected is None:
        raise web.HTTPSeeOther(UI_PATH)  # no token needed: drop it from the address
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise RequestError(401, "wrong admin token in ?token=")
    redirect = web.HTTPSeeOther(UI_PATH)
    redirect.set_cookie(ADMIN_COOKIE, token, path=PREFIX, httponly=True, samesite="Strict")
    raise redirect


async def get_asset(request: web.Request) -> web.Response:
    """The page's script and style sheet (and the page itself under its file name)."""
    name = request.match_info["name"]
    if name not in ASSETS:
        raise RequestError(
            404, f"no inspector file {name!r}; the page is at {UI_PATH}", {"files": sorted(ASSETS)}
        )
    admin_emulator(request)
    return _asset_response(name)


def _asset_response(name: str) -> web.Response:
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": CSP}
    return web.Response(body=_asset(name), content_type=ASSETS[name], headers=headers)


@functools.lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> bytes:
    return (resources.files("emulator") / "ui" / name).read_bytes()


# --- one request ---------------------------------------------------------------------------------


async def get_request(request: web.Request) -> web.Response:
    """One journal entry in detail: the admin API's entry plus its summary, timing (scheduled
    and actual time of every event), reply rebuilt from the bytes sent, and curl command."""
    emulator = admin_emulator(request)
    entry = journal_entry(request, emulator)
    base_url = f"{request.scheme}://{request.host}"
    served = entry.generation_id is not None and entry.finished
    cost = genstats.generation_cost(entry, emulator.catalog) if served else None
    return web.json_response(inspection.detail(entry, base_url, cost), dumps=_dumps)


async def get_raw(request: web.Request) -> web.Response:
    """The exact bytes the response sent after its head, as a download (`request-N.bin`)."""
    entry = journal_entry(request, admin_emulator(request))
    disposition = f'attachment; filename="request-{entry.seq}.bin"'
    return web.Response(
        body=inspection.raw_bytes(entry),
        content_type="application/octet-stream",
        headers={"Content-Disposition": disposition},
    )


# --- scenario files ------------------------------------------------------------------------------


async def post_reload(request: web.Request) -> web.Response:
    """Load the scenario files the server was started with (`--scenarios`) anew and swap them in
    for their previous load (scenarios added through the admin API stay, listed as `kept`); on
    any problem keep the current set and answer 400 naming `file:line`."""
    emulator = admin_emulator(request)
    paths = emulator.config.scenario_paths
    if not paths:
        raise RequestError(
            400,
            "the server was started without --scenarios: no files to reload "
            f"(load scenarios with POST {PREFIX}/scenarios)",
        )
    try:
        scenarios = load_paths(list(paths))
        kept = emulator.state.replace_files(scenarios)  # admin-added scenarios stay
    except ScenarioError as exc:
        raise RequestError(400, str(exc), {"source": exc.source, "line": exc.line}) from None
    return web.json_response({"reloaded": [s.name for s in scenarios], "kept": list(kept)})


# --- the live journal ----------------------------------------------------------------------------


async def get_events(request: web.Request) -> web.StreamResponse:
    """The journal as server-sent events: first `snapshot` (every entry's summary, oldest first),
    then `request` (one entry's summary, when it opens and again when it finishes) and `clear`
    (the journal was emptied), with a keep-alive comment every 15 s."""
    emulator = admin_emulator(request)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Change] = asyncio.Queue(QUEUE_LIMIT)

    def listener(kind: str, entry: JournalEntry | None) -> None:
        # The journal may be changed from another thread (a test calling reset).
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is listening
            loop.call_soon_threadsafe(_offer, queue, (kind, entry))

    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    subscribers = request.app[SUBSCRIBERS]
    subscribers.add(queue)
    emulator.journal.subscribe(listener)
    try:
        await response.write(b"retry: 1000\n\n")
        await _send_snapshot(response, emulator.journal.entries())
        while (change := await _next(queue, response)) is not None:
            kind, entry = change
            if kind == _SNAPSHOT:
                await _send_snapshot(response, emulator.journal.entries())
            elif kind == "clear":
                await response.write(_sse("clear", {}))
            elif entry is not None:
                await response.write(_sse("request", inspection.summary(entry)))
    except (ConnectionError, asyncio.CancelledError):
        pass  # the page went away, or the server is stopping
    finally:
        emulator.journal.unsubscribe(listener)
        subscribers.discard(queue)
    return response


def _offer(queue: asyncio.Queue[Change], change: Change) -> None:
    """Queue a change; a subscriber too far behind gets one snapshot instead of the backlog."""
    try:
        queue.put_nowait(change)
    except asyncio.QueueFull:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait((_SNAPSHOT, None))


async def _next(queue: asyncio.Queue[Change], response: web.StreamResponse) -> Change | None:
    while True:
        try:
            change = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
        except asyncio.TimeoutError:
            await response.write(b": keep-alive\n\n")
            continue
        return None if change[0] == _STOP else change


async def _send_snapshot(response: web.StreamResponse, entries: list[JournalEntry]) -> None:
    await response.write(_sse(_SNAPSHOT, [inspection.summary(e) for e in entries]))


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {_dumps(data)}\n\n".encode()


async def _stop_subscribers(app: web.Application) -> None:
    subscribers = app[SUBSCRIBERS]
    for queue in list(subscribers):
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait((_STOP, None))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
