"""The admin API under /_emulator/: the journal, the loaded scenarios, the model catalog,
reset and health.

Off the /v1 path so it never collides with the router's API. When the config has an
`admin_token`, every admin route requires `Authorization: Bearer <admin token>`, or the cookie
the inspector page sets (`/_emulator/ui?token=<admin token>`, see emulator/inspector.py).
"""

from __future__ import annotations

import hmac
import json
import os
from typing import Any

from aiohttp import web

from emulator import __version__, childparse
from emulator.catalogfile import parse_catalog
from emulator.deadline import BudgetExceeded
from emulator.errors import RequestError, ScenarioError
from emulator.handlers import EMULATOR, bearer_key, read_body
from emulator.journal import JournalEntry
from emulator.loader import MAX_FILE_BYTES, load_text
from emulator.runtime import Emulator
from emulator.scenario import Scenario
from emulator.turns import loop_warnings

PREFIX = "/_emulator"
DEFAULT_SOURCE = "<request body>"
# Set by the inspector page from `?token=`: a browser's EventSource cannot send headers.
ADMIN_COOKIE = "chat_emulator_admin"
# Uploads over 64 KiB load in a child process (no request waits on them): a 10 MiB file may
# take minutes to check on a slow machine.
UPLOAD_BUDGET_MS = 120_000.0
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def add_routes(app: web.Application) -> None:
    """Register every admin route on `app` (create_app does)."""
    app.router.add_get(f"{PREFIX}/requests", get_requests)
    app.router.add_delete(f"{PREFIX}/requests", delete_requests)
    app.router.add_get(f"{PREFIX}/requests/{{seq}}/scenario", get_request_scenario)
    app.router.add_get(f"{PREFIX}/scenarios", get_scenarios)
    app.router.add_post(f"{PREFIX}/scenarios", post_scenarios)
    app.router.add_post(f"{PREFIX}/catalog", post_catalog)
    app.router.add_post(f"{PREFIX}/reset", post_reset)
    app.router.add_get(f"{PREFIX}/health", get_health)
    from emulator import sessionadmin  # imports this module: registered last

    sessionadmin.add_routes(app)


# --- request checks -----------------------------------------------------------------------------


def journal_entry(request: web.Request, emulator: Emulator) -> JournalEntry:
    """The journal entry the route's `{seq}` names: a 400 RequestError if it is not a positive
    integer, a 404 naming the numbers the journal holds if it has no such entry."""
    text = request.match_info["seq"]
    if not text.isdigit():
        raise RequestError(400, f"request number {text!r} is not a positive integer")
    entry = emulator.journal.get(int(text))
    if entry is None:
        held = emulator.journal.entries()
        span = f"#{held[0].seq} to #{held[-1].seq}" if held else "no requests"
        raise RequestError(404, f"no request #{text} in the journal (it holds {span})")
    return entry


def admin_emulator(request: web.Request, *params: str) -> Emulator:
    """The emulator, once the admin token (if any) and the query parameters (only `params`
    allowed) are checked; a 401 or 400 RequestError otherwise. For routes beside this module's."""
    return _admin(request, *params)


def _admin(request: web.Request, *params: str) -> Emulator:
    """The emulator, once the admin token (if any) and the query parameters are checked."""
    emulator = request.app[EMULATOR]
    _check_token(request, emulator.config.admin_token)
    unknown = sorted(set(request.query) - set(params))
    if unknown:
        valid = ", ".join(params) or "none"
        raise RequestError(
            400,
            f"unknown query parameter(s) {', '.join(map(repr, unknown))} for "
            f"{request.method} {request.path}; valid: {valid}",
        )
    return emulator


def _check_token(request: web.Request, token: str | None) -> None:
    if token is None:
        return
    given = bearer_key(request) or request.cookies.get(ADMIN_COOKIE)
    if given is None:
        raise RequestError(401, "the admin API requires 'Authorization: Bearer <admin token>'")
    # Constant-time: the admin token guards a server that may be reachable from a network.
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise RequestError(401, "wrong admin token")


def _flag(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise RequestError(
        400, f"query parameter {name!r} is {value!r}; valid: {', '.join(_TRUE + _FALSE)}"
    )


# --- the journal --------------------------------------------------------------------------------


async def get_requests(request: web.Request) -> web.Response:
    """The journal as JSON, oldest first; `?scenario=<name>` keeps that scenario's requests,
    `?session=<name>` that session's (header X-Emulator-Session)."""
    emulator = _admin(request, "scenario", "session")
    scenario = request.query.get("scenario")
    entries = emulator.journal.entries(scenario, request.query.get("session"))
    return web.json_response(
        {
            "requests": [e.to_json() for e in entries],
            "dropped": emulator.journal.dropped,
            "dropped_rejected": emulator.dropped_problem_count,
        },
        dumps=_dumps,
    )


async def get_request_scenario(request: web.Request) -> web.Response:
    """Journal entry `seq` as a scenario that plays exactly what was played for it: YAML, or
    JSON when the Accept header asks for application/json; `?name=` names the scenario."""
    emulator = _admin(request, "name")
    entry = journal_entry(request, emulator)
    from emulator import export  # on first use: not on the way to a server's first answer

    try:
        scenario = export.scenario_for(entry, request.query.get("name") or None)
    except export.ExportError as exc:
        raise RequestError(409, str(exc)) from None
    if "application/json" in request.headers.get("Accept", ""):
        return web.Response(text=export.render(scenario, "json"), content_type="application/json")
    return web.Response(text=export.render(scenario, "yaml"), content_type="application/yaml")


async def delete_requests(request: web.Request) -> web.Response:
    """Empty the journal (scenarios and their call counters stay)."""
    emulator = _admin(request)
    deleted = len(emulator.journal)
    emulator.clear_journal()
    return web.json_response({"deleted": deleted})


# --- scenarios ----------------------------------------------------------------------------------


async def get_scenarios(request: web.Request) -> web.Response:
    """The loaded scenarios in load order, each with how many calls it has served."""
    emulator = _admin(request)
    calls = emulator.state.call_counts()
    return web.json_response(
        {"scenarios": [_describe(s, calls.get(s.name, 0)) for s in emulator.state.scenarios]}
    )


def _describe(scenario: Scenario, calls: int) -> dict[str, Any]:
    return {
        "name": scenario.name,
        "description": scenario.description,
        "priority": scenario.priority,
        "source": str(scenario.source),
        "steps": len(scenario.steps),
        "calls": calls,
    }


async def post_scenarios(request: web.Request) -> web.Response:
    """Load scenarios from a YAML or JSON body: all of them or, on any problem, none (400 naming
    `source:line`). `?replace=true` swaps out every loaded scenario; `?source=` names the body."""
    emulator = _admin(request, "replace", "source")
    replace = _flag(request, "replace")
    source = request.query.get("source") or DEFAULT_SOURCE
    text = await _text_body(request, emulator)
    try:
        # YAML parsing is pure Python and grows with the file: off the event loop, bounded.
        budget_s = max(emulator.config.request_budget_ms, UPLOAD_BUDGET_MS) / 1000
        if len(text) > childparse.UPLOAD_INLINE_BYTES:
            scenarios = await childparse.load_scenarios(text, source, budget_s, emulator.bounded)
        else:
            scenarios = await emulator.bounded.run(lambda: load_text(text, source), budget_s)
        if replace:
            emulator.state.replace_all(scenarios)
        else:
            emulator.state.add(scenarios)
    except ScenarioError as exc:
        raise RequestError(400, str(exc), {"source": exc.source, "line": exc.line}) from None
    except (BudgetExceeded, childparse.TooSlow):
        raise RequestError(
            413, f"the scenarios took more than {budget_s * 1000:.0f} ms to load; split the file"
        ) from None
    names = [s.name for s in scenarios]
    body = {"loaded": names, "scenarios": list(emulator.state.names())}
    warnings = loop_warnings(scenarios)
    if warnings:
        body["warnings"] = warnings
    return web.json_response(body, status=201)


async def post_catalog(request: web.Request) -> web.Response:
    """Apply a catalog file (YAML or JSON body, docs/catalog.md) over the served model catalog
    until the next reset; 400 naming `source:line` for a broken one. `?source=` names the body."""
    emulator = _admin(request, "source")
    source = request.query.get("source") or DEFAULT_SOURCE
    text = await _text_body(request, emulator, "a catalog file")
    try:
        parsed = parse_catalog(text, source)
    except ScenarioError as exc:
        raise RequestError(400, str(exc), {"source": exc.source, "line": exc.line}) from None
    emulator.catalog = parsed.apply(emulator.catalog)
    return web.json_response(
        {"applied": [str(e["id"]) for e in parsed.entries], "models": len(emulator.catalog)},
        status=201,
    )


async def _text_body(request: web.Request, emulator: Emulator, what: str = "scenarios") -> str:
    # A scenario (or catalog) file has its own size limit, the same as on disk.
    limit = min(emulator.config.max_body_bytes, MAX_FILE_BYTES)
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit, what)
    raw = await read_body(request, emulator.config.max_body_bytes, emulator.config.idle_timeout_ms)
    if len(raw) > limit:
        raise _too_large(limit, what)
    if not raw.strip():
        raise RequestError(400, f"empty body: send {what} as YAML or JSON")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RequestError(
            400, f"the body is not UTF-8: {exc.reason} at byte {exc.start}"
        ) from None
    if request.content_type == "application/json":
        _check_json(text)
    return text


def _too_large(limit: int, what: str) -> RequestError:
    return RequestError(413, f"{what}: the upload is larger than the limit of {limit} bytes")


def _check_json(text: str) -> None:
    # A body sent as JSON must be JSON, even though the YAML loader (which keeps line numbers
    # for its messages) would accept more.
    try:
        json.loads(text)
    except ValueError as exc:
        raise RequestError(400, f"the body is not valid JSON: {exc}") from None


# --- reset and health ---------------------------------------------------------------------------


async def post_reset(request: web.Request) -> web.Response:
    """Fresh state: open streams cancelled, journal emptied, counters and settings reset, and
    scenarios removed unless `?keep_scenarios=true`."""
    emulator = _admin(request, "keep_scenarios")
    keep = _flag(request, "keep_scenarios")
    await emulator.close_open_streams()
    emulator.reset(keep_scenarios=keep)
    return web.json_response({"reset": True, "scenarios": list(emulator.state.names())})


async def get_health(request: web.Request) -> web.Response:
    """Liveness, with a few counts, and which worker answered (`serve --workers N` runs N
    processes, each with its own journal and counters)."""
    emulator = _admin(request)
    open_streams = sum(1 for t in emulator.open_tasks if not t.done())
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "scenarios": len(emulator.state.scenarios),
            "requests": len(emulator.journal),
            "dropped": emulator.journal.dropped,
            "open_streams": open_streams,
            "worker": {
                "index": emulator.config.worker,
                "of": emulator.config.workers,
                "pid": os.getpid(),
            },
        }
    )


def _dumps(value: Any) -> str:
    # Request bodies are untrusted JSON; anything json.loads produced serialises back.
    return json.dumps(value, ensure_ascii=False)
