"""Admin routes for sessions (`X-Emulator-Session`): read one session's sequence counters and
journal, or reset just that session, while other jobs keep using the same server.

    GET    /_emulator/sessions            the sessions seen since the last reset
    GET    /_emulator/sessions/{session}  one session: calls per scenario and its journal
    DELETE /_emulator/sessions/{session}  reset one session: counters, journal entries, chaos
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from emulator.admin import PREFIX, _admin, _dumps
from emulator.runtime import Emulator


def add_routes(app: web.Application) -> None:
    """Register the session routes on `app` (the admin API does)."""
    app.router.add_get(f"{PREFIX}/sessions", get_sessions)
    app.router.add_get(f"{PREFIX}/sessions/{{session}}", get_session)
    app.router.add_delete(f"{PREFIX}/sessions/{{session}}", delete_session)


def _sessions(emulator: Emulator) -> list[str]:
    seen = [e.session for e in emulator.journal.entries() if e.session is not None]
    return list(dict.fromkeys([*emulator.state.sessions(), *seen]))


async def get_sessions(request: web.Request) -> web.Response:
    """The sessions with calls or journal entries, in first-seen order."""
    emulator = _admin(request)
    return web.json_response({"sessions": _sessions(emulator)})


async def get_session(request: web.Request) -> web.Response:
    """One session: `calls` per loaded scenario (0 when never called in it) and `requests`,
    its journal entries oldest first (an unknown session has none of either)."""
    emulator = _admin(request)
    session = request.match_info["session"]
    body: dict[str, Any] = {
        "session": session,
        "calls": emulator.state.call_counts(session),
        "requests": [e.to_json() for e in emulator.journal.entries(session=session)],
    }
    return web.json_response(body, dumps=_dumps)


async def delete_session(request: web.Request) -> web.Response:
    """Reset one session: sequences start again, its journal entries and chaos counts go;
    other sessions, requests without a session and the scenarios stay."""
    emulator = _admin(request)
    session = request.match_info["session"]
    deleted = emulator.reset_session(session)
    return web.json_response({"reset": session, "deleted": deleted})
