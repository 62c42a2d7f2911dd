"""Routing: which model and which provider endpoint serve a request, in which order.

The router's model-fallbacks, provider-selection, model-variants and routers docs:

- **Candidates**: `model`, then `models[]` in order (duplicates dropped). `openrouter/auto` and
  `openrouter/free` are replaced by a concrete catalog model chosen by the seeded generator.
- **Variants**: `:free` is a catalog entry of its own (price 0, free-tier limits); `:nitro`
  sorts by throughput and admits `priority` endpoints, `:floor` sorts by price and admits
  `flex` endpoints, `:exacto` sorts for quality (uptime, then throughput); `:thinking`,
  `:extended` and `:online` are served by the base model's endpoints.
- **Providers**: each candidate's catalog endpoints, filtered and ordered by the request's
  `provider` preferences (`emulator.preferences`, `emulator.providers`).
- **Partition**: by default a model's endpoints are all tried before the next model's;
  `sort: {partition: "none"}` sorts the endpoints of every candidate together, and moves those
  missing a preferred throughput or latency behind every candidate's that meet it (so a
  fallback model's endpoint can go first).
- **Context window**: given the request's `PromptSize`, endpoints that cannot hold it are
  dropped (`emulator.contextfit`); a catalog model left with none fails with the router's 400
  `context_length_exceeded` and the next candidate is tried.
- **Nothing left** is the router's 404 availability error (`constraint_filtered`, or
  `model_not_found` (400) for a model a strict catalog lacks), naming the constraint.

Pure: no I/O, no clock; the random generator is passed in (seeded per request).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.catalog import Catalog, CatalogModel, Endpoint, default_model, split_variants
from emulator.contextfit import PromptSize, fits, known_window, refusal
from emulator.preferences import Preferences
from emulator.providers import Down, endpoints_for, preferred, sort_key
from emulator.scenario import ErrorReply
from emulator.unavailable import RoutingError, availability, filtered, not_found

AUTO_ROUTER = "openrouter/auto"
FREE_ROUTER = "openrouter/free"
ROUTERS = (AUTO_ROUTER, FREE_ROUTER)


@dataclass(frozen=True)
class Attempt:
    """One try: `model` (the concrete id reported as `model`) on `endpoint`; `number` from 1."""

    number: int
    model: str
    endpoint: Endpoint
    catalog_model: CatalogModel
    # The model cannot take the request (its context window): this error, no provider tried.
    refusal: ErrorReply | None = None


@dataclass(frozen=True)
class RoutePlan:
    """Every attempt in order, and what the response reports about routing."""

    requested: str
    attempts: tuple[Attempt, ...]
    router: str | None = None  # openrouter/auto or openrouter/free when one chose the model
    candidates: tuple[str, ...] = ()

    @property
    def strategy(self) -> str:
        """`fallback` when more than one model is a candidate, else `direct`."""
        return "fallback" if len(self.candidates) > 1 else "direct"


def is_free(model_id: str) -> bool:
    """Whether a request for `model_id` is under the free-variant limits (`:free`, or the free
    router)."""
    base, variants = split_variants(model_id)
    return "free" in variants or base == FREE_ROUTER


def candidates(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The models to try, in order: `model`, then `models[]`, each once."""
    found = [body.get("model")] + list(body.get("models") or [])
    return tuple(dict.fromkeys(m for m in found if isinstance(m, str) and m))


def plan_route(
    body: Mapping[str, Any],
    catalog: Catalog,
    rng: random.Random,
    strict: bool = False,
    size: PromptSize | None = None,
    down: frozenset[tuple[str, str]] = frozenset(),
) -> RoutePlan:
    """The attempts for a request body. With `size`, a catalog model none of whose allowed
    endpoints can hold the request is an attempt that fails with the router's 400
    `context_length_exceeded` (falling back like any error). `down` holds the (catalog model
    id, endpoint tag) pairs with a recent outage, which the default load balancing tries last
    (emulator.outages). Raises `RoutingError` when no
    endpoint is left, or a model is missing from a `strict` catalog."""
    prefs = Preferences.parse(body.get("provider"))
    requested = candidates(body) or ("",)
    router = next((m for m in requested if split_variants(m)[0] in ROUTERS), None)
    chosen = [_route_model(m, body, catalog, rng) for m in requested]
    pairs: list[tuple[str, CatalogModel, Endpoint, ErrorReply | None]] = []
    problems: list[tuple[str, list[str], str]] = []
    for model_id in chosen:
        model = catalog.get(model_id)
        if model is None:
            if strict:
                raise not_found(model_id, list(requested))
            model = default_model(model_id)
        fit = _fit(size, catalog.get(model_id) is not None and known_window(model))
        found = endpoints_for(model, model_id, prefs, body, rng, fit, _down(model, down))
        if found.unfit and size is not None:
            pairs.append((model_id, model, found.unfit[0], refusal(found.unfit, size)))
        elif found.ordered:
            pairs += [(model_id, model, e, None) for e in found.ordered]
        else:
            problems.append((model_id, found.excluded, found.detail))
    if not pairs:
        raise filtered(problems, list(requested))
    if prefs.partition == "none":  # every candidate's endpoints ordered together
        key = sort_key(prefs, ())
        if key is not None:
            pairs.sort(key=lambda p: key(p[2]))
        if prefs.has_thresholds and not prefs.order:
            pairs.sort(key=lambda p: not preferred(p[2], prefs))
    attempts = tuple(Attempt(i + 1, m, e, cm, r) for i, (m, cm, e, r) in enumerate(pairs))
    return RoutePlan(requested[0], attempts, router, tuple(chosen))


def _down(model: CatalogModel, down: frozenset[tuple[str, str]]) -> Down | None:
    if not any(model_id == model.id for model_id, _ in down):
        return None
    return lambda endpoint: (model.id, endpoint.tag) in down


def _fit(size: PromptSize | None, window: bool) -> Callable[[Endpoint], bool] | None:
    if size is None:
        return None
    return lambda endpoint: fits(endpoint, size, window)


# --- routers ---------------------------------------------------------------------------------


def _route_model(
    model_id: str, body: Mapping[str, Any], catalog: Catalog, rng: random.Random
) -> str:
    """The concrete model for a candidate: the candidate itself, or the model a router picks."""
    base = split_variants(model_id)[0]
    if base not in ROUTERS:
        return model_id
    free = base == FREE_ROUTER
    needs_tools = body.get("tools") is not None
    pool = sorted(
        m.id
        for m in catalog
        if (":free" in m.id) == free
        and "text" in m.data["architecture"]["output_modalities"]
        and (not needs_tools or "tools" in m.data["supported_parameters"])
    )
    if not pool:
        raise RoutingError(
            404,
            "No models match your request and model restrictions",
            availability("no_endpoints", [model_id]),
        )
    return rng.choice(pool)
