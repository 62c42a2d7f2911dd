"""`GET /generation?id=<id>` (spec operation getGeneration): a served generation's stats.

The router's own endpoint: same Bearer auth as chat completions, `{"data": {...}}`, 404 in the
error envelope for an id it never served, one whose response has not finished yet, or (with a
stats lag configured) one whose stats have not appeared yet: real clients poll and retry.
"""

from __future__ import annotations

import time

from aiohttp import web

from emulator.errors import RequestError
from emulator.genstats import generation_stats
from emulator.handlers import EMULATOR, check_auth
from emulator.journal import JournalEntry
from emulator.runtime import Emulator


def add_routes(app: web.Application) -> None:
    """Register the endpoint under both of the router's prefixes (create_app does)."""
    for prefix in ("/v1", "/api/v1"):
        app.router.add_get(f"{prefix}/generation", generation)


async def generation(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR]
    check_auth(request, emulator)
    generation_id = request.query.get("id", "").strip()
    if not generation_id:
        raise RequestError(400, "missing required query parameter 'id' (a generation id)")
    entry = emulator.journal.find_generation(generation_id)
    if entry is None or entry.completion is None:
        raise RequestError(404, f"generation {generation_id!r} not found")
    if not entry.finished or entry.duration_ms is None:
        raise RequestError(
            404,
            f"generation {generation_id!r} has not finished yet; its stats are available "
            "once its response has ended",
        )
    if _lagging(emulator, entry, generation_id):
        raise RequestError(404, f"generation {generation_id!r} not found")
    return web.json_response({"data": generation_stats(entry, emulator.catalog)})


def _lagging(emulator: Emulator, entry: JournalEntry, generation_id: str) -> bool:
    """Whether the configured stats lag still hides this generation: fewer polls than
    `generation_lag_polls` so far, or less than `generation_lag_ms` (times the time scale) since its
    response ended. Each poll answered 404 this way counts."""
    ended = entry.started_at + (entry.duration_ms or 0.0) / 1000
    waited_ms = (time.time() - ended) * 1000
    polls = emulator.stats_polls.get(generation_id, 0)
    hidden = polls < emulator.generation_lag_polls or (
        waited_ms < emulator.generation_lag_ms * emulator.time_scale
    )
    if hidden:
        emulator.stats_polls[generation_id] = polls + 1
    return hidden
