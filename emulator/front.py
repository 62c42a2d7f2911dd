"""The front of the hot route: `POST /v1/chat/completions` and `POST /api/v1/chat/completions`
go straight to their handler, without aiohttp's URL dispatch and middleware chain; every other
request (any other method or path, the `/session/NAME/...` twins, a request with an `Expect`
header) goes through the app as usual.

aiohttp builds its low-level server around `Application._handle` (routing, then the middlewares,
then the handler) for every runner: `chat-emulator serve`, `EmulatorServer`, `--workers` and
pytest-aiohttp's test server alike, so the front replaces that one method on the app. What the
two middlewares do (the access-log line, the envelope for an error) is done for the fast route by
one coroutine the app passes in (`app.serve_directly`), the same code the middlewares run. The
request still has the match info the router would have given it (`request.match_info`,
`request.app`, the app's `on_response_prepare` signal).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping

from aiohttp import hdrs, web
from aiohttp.web_urldispatcher import AbstractRoute, UrlMappingMatchInfo

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Serve = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def install(
    app: web.Application,
    routes: Mapping[str, AbstractRoute],
    serve: Serve,
    middlewares: Collection[object],
) -> None:
    """Answer `POST` to each path of `routes` (path as the router compares it: percent-decoded
    except `%2F`) with its route's handler run by `serve(request, handler)`, not through the
    router and `middlewares`. Should the app's middlewares differ from `middlewares` when it
    serves its first request (someone added one), the front stands aside for good."""
    normal: Callable[[web.Request], Awaitable[web.StreamResponse]] = app._handle
    fast = dict(routes)
    checked = False

    async def handle(request: web.Request) -> web.StreamResponse:
        nonlocal checked, fast
        if not checked:
            checked = True
            if list(app.middlewares) != list(middlewares):
                fast = {}
        if request.method == hdrs.METH_POST:
            route = fast.get(request.rel_url.path_safe)
            # A request with Expect is left to aiohttp, which answers 100 Continue (or 417).
            if route is not None and hdrs.EXPECT not in request.headers:
                request._match_info = _match_info(route, app)
                return await serve(request, route.handler)
        return await normal(request)

    # Not a subclass (aiohttp discourages subclassing Application) and not a runner hook (the
    # test server builds its own runner): the one method every runner's server calls.
    # object.__setattr__ because aiohttp's debug mode warns on any attribute set on an app.
    object.__setattr__(app, "_handle", handle)


def _match_info(route: AbstractRoute, app: web.Application) -> UrlMappingMatchInfo:
    """What `Application._handle` gives a request the router resolved to `route` (a plain path:
    no match values)."""
    match_info = UrlMappingMatchInfo({}, route)
    match_info.add_app(app)
    match_info.freeze()
    return match_info
