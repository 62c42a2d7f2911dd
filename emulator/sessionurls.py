"""Sessions by URL: every route of the router's API (`/v1/...`, `/api/v1/...`) also answers under
`/session/{session}`, as if the request carried `X-Emulator-Session: {session}`. A client that
can only be given a base URL (code under test building its own client from `OPENAI_BASE_URL`)
joins a session with the base URL `http://HOST:PORT/session/NAME/v1`. The name is one path
segment, percent-encoded (`/` as `%2F`); the URL's session wins over a header's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from emulator.errors import RequestError
from emulator.handlers import ENTRY
from emulator.state import MAX_SESSION_CHARS

PREFIX = "/session/{session}"
API_PREFIXES = ("/v1/", "/api/v1/")
HEADER = "X-Emulator-Session"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def session_url(root: str, session: str) -> str:
    """The root URL of `session`'s routes, e.g. `http://127.0.0.1:43817/session/job-a` (append
    `/v1` for the OpenAI SDK's base_url)."""
    segment = quote(session, safe="")
    if segment in (".", ".."):  # a client would resolve it as a dot segment and leave the session
        segment = segment.replace(".", "%2E")
    return f"{root}/session/{segment}"


def add_routes(app: web.Application) -> None:
    """Register, for every API route already on `app`, its twin under /session/{session}
    (call it after the API's routes; admin and inspector routes get none)."""
    for route in list(app.router.routes()):
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if isinstance(path, str) and path.startswith(API_PREFIXES):
            app.router.add_route(route.method, PREFIX + path, _in_session(route.handler))


def _in_session(handler: Handler) -> Handler:
    async def in_session(request: web.Request) -> web.StreamResponse:
        name = request.match_info["session"].strip()
        if not name or len(name) > MAX_SESSION_CHARS or not name.isprintable():
            raise RequestError(
                400,
                f"the session in the URL (/session/NAME/...) must be 1 to {MAX_SESSION_CHARS} "
                "printable characters",
                headers={"x-should-retry": "false"},
            )
        headers = request.headers.copy()
        headers[HEADER] = name
        inner = request.clone(headers=headers)
        try:
            return await handler(inner)
        finally:
            # The access log reads the journal entry (status, scenario, how it ended) from the
            # request the middleware holds, not the clone the handler was given.
            if ENTRY in inner:
                request[ENTRY] = inner[ENTRY]

    return in_session
