"""Thin aiohttp handlers for the router's side endpoints: the model catalog, the key, credits.

Every route is served under both of the router's prefixes, `/api/v1` and `/v1`:

- `GET /models` (spec operation getModels → ModelsListResponse), with its query filters;
- `GET /models/count` (listModelsCount → ModelsCountResponse);
- `GET /models/{author}/{slug}/endpoints` (listEndpoints → `{"data": ListEndpointsResponse}`);
- `GET /model/{author}/{slug}` (`{"data": Model}`, 404 for a model the catalog lacks);
- `GET /key` (getCurrentKey) and `GET /credits` (getCredits): the counters of what was served.

Same Bearer auth as chat completions.
"""

from __future__ import annotations

from aiohttp import web

from emulator.catalog import CatalogModel
from emulator.errors import RequestError
from emulator.handlers import EMULATOR, check_auth


def add_routes(app: web.Application) -> None:
    """Register the endpoints under both of the router's prefixes (create_app does)."""
    for prefix in ("/v1", "/api/v1"):
        app.router.add_get(f"{prefix}/models", models)
        app.router.add_get(f"{prefix}/models/count", models_count)
        app.router.add_get(f"{prefix}/models/{{author}}/{{slug}}/endpoints", model_endpoints)
        app.router.add_get(f"{prefix}/model/{{author}}/{{slug}}", model)
        app.router.add_get(f"{prefix}/key", key)
        app.router.add_get(f"{prefix}/credits", credits)


async def models(request: web.Request) -> web.Response:
    """The catalog in the router's list shape, filtered, sorted and paged by the query."""
    emulator = request.app[EMULATOR]
    check_auth(request, emulator)
    from emulator.modelquery import parse_query  # on first use (start-up)

    query = parse_query(request.query)
    return web.json_response(query.listing(emulator.served_catalog(), request.path))


async def models_count(request: web.Request) -> web.Response:
    """`{"data": {"count": N}}`: how many models `GET /models` lists for the same filters."""
    emulator = request.app[EMULATOR]
    check_auth(request, emulator)
    from emulator.modelquery import parse_query  # on first use (start-up)

    selected = parse_query(request.query).select(emulator.served_catalog())
    return web.json_response({"data": {"count": len(selected)}})


async def model_endpoints(request: web.Request) -> web.Response:
    """A model's provider endpoints, what routing chooses from."""
    emulator = request.app[EMULATOR]
    check_auth(request, emulator)
    found = _find(request)
    return web.json_response({"data": found.endpoints_wire()})


async def model(request: web.Request) -> web.Response:
    """One model, its id resolved through variant suffixes."""
    emulator = request.app[EMULATOR]
    check_auth(request, emulator)
    return web.json_response({"data": _find(request).wire()})


async def key(request: web.Request) -> web.Response:
    """The calling key's limit and usage counters (USD)."""
    emulator = request.app[EMULATOR]
    api_key = check_auth(request, emulator)
    return web.json_response({"data": emulator.accounts.key_data(api_key, emulator.now())})


async def credits(request: web.Request) -> web.Response:
    """The account's credits and the usage of every key (USD)."""
    emulator = request.app[EMULATOR]
    check_auth(request, emulator)
    return web.json_response({"data": emulator.accounts.credits_data()})


def _find(request: web.Request) -> CatalogModel:
    emulator = request.app[EMULATOR]
    model_id = f"{request.match_info['author']}/{request.match_info['slug']}"
    found = emulator.served_catalog().get(model_id)
    if found is None:
        raise RequestError(404, f"Model {model_id!r} not found in the catalog")
    return found
