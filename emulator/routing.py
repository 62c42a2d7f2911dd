"""Routing: which model and which provider endpoint serve a request, in which order.

The router's model-fallbacks, provider-selection, model-variants and routers docs:

- **Candidates**: `model`, then `models[]` in order (duplicates dropped). `openrouter/auto` and
  `openrouter/free` are replaced by a concrete catalog model chosen by the seeded generator.
- **Variants**: `:free` is a catalog entry of its own (price 0, free-tier limits); `:nitro`
  sorts by throughput and admits `priority` endpoints, `:floor` sorts by price and admits
  `flex` endpoints, `:exacto` sorts for quality (uptime, then throughput); `:thinking`,
  `:extended` and `:online` are served by the base model's endpoints.
- **Provider preferences** (spec schema ProviderPreferences): the filters `only`, `ignore`,
  `quantizations`, `max_price`, `require_parameters`, `data_collection: deny`, `zdr` drop
  endpoints; `order` puts listed providers first (the rest follow unless `allow_fallbacks` is
  false); `sort` (`price`, `throughput`, `latency`, `exacto`, or `{by, partition}`) orders them;
  with neither, the default load balancing orders them by a seeded draw weighted by the inverse
  square of the price. A base slug (`google-vertex`) matches every endpoint of that provider
  (`google-vertex/europe`), a full slug (`deepinfra/turbo`) only that one. `allow_fallbacks:
  false` keeps only the first endpoint (or the listed ones).
- **Partition**: by default a model's endpoints are all tried before the next model's;
  `sort: {partition: "none"}` sorts the endpoints of every candidate together.
- **Nothing left** is the router's 404 availability error (`constraint_filtered`, or
  `model_not_found` (400) for a model a strict catalog lacks), naming the constraint.

Pure: no I/O, no clock; the random generator is passed in (seeded per request).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from emulator.catalog import Catalog, CatalogModel, Endpoint, default_model, split_variants
from emulator.pricing import price
from emulator.unavailable import (
    RoutingError,
    availability,
    constraint_message,
    filtered,
    ignore_message,
    not_found,
    only_message,
    shown_prices,
)

AUTO_ROUTER = "openrouter/auto"
FREE_ROUTER = "openrouter/free"
ROUTERS = (AUTO_ROUTER, FREE_ROUTER)
MILLION = Decimal(1_000_000)
# Request parameters an endpoint may support (spec schema Parameter), for require_parameters.
PARAMETERS = (
    "temperature", "top_p", "top_k", "min_p", "top_a", "frequency_penalty", "presence_penalty",
    "repetition_penalty", "max_tokens", "max_completion_tokens", "logit_bias", "logprobs",
    "top_logprobs", "prediction", "seed", "response_format", "structured_outputs", "stop",
    "tools", "tool_choice", "parallel_tool_calls", "include_reasoning", "reasoning",
    "reasoning_effort", "web_search_options", "verbosity",
)  # fmt: skip


@dataclass(frozen=True)
class Attempt:
    """One try: `model` (the concrete id reported as `model`) on `endpoint`; `number` from 1."""

    number: int
    model: str
    endpoint: Endpoint
    catalog_model: CatalogModel


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


@dataclass(frozen=True)
class Preferences:
    """The request's `provider` object (spec schema ProviderPreferences), parsed."""

    order: tuple[str, ...] = ()
    allow_fallbacks: bool = True
    only: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    quantizations: tuple[str, ...] | None = None
    sort: str | None = None
    partition: str = "model"
    max_price: Mapping[str, Decimal] = field(default_factory=dict)
    require_parameters: bool = False
    deny_data_collection: bool = False
    zdr: bool = False

    @classmethod
    def parse(cls, value: Any) -> Preferences:
        """From the request body's `provider` (already schema-checked; None: defaults)."""
        if not isinstance(value, Mapping):
            return cls()
        sort = value.get("sort")
        by, partition = (
            (sort, "model")
            if not isinstance(sort, Mapping)
            else (
                sort.get("by"),
                sort.get("partition") or "model",
            )
        )
        route = value.get("route")  # deprecated: "sort" sorts every endpoint together
        if route == "sort":
            partition = "none"
        return cls(
            order=_names(value.get("order")),
            allow_fallbacks=value.get("allow_fallbacks") is not False,
            only=_names(value.get("only")) if value.get("only") is not None else None,
            ignore=_names(value.get("ignore")),
            quantizations=(
                tuple(value["quantizations"]) if value.get("quantizations") is not None else None
            ),
            sort=by,
            partition=partition,
            max_price=_max_price(value.get("max_price")),
            require_parameters=value.get("require_parameters") is True,
            deny_data_collection=value.get("data_collection") == "deny",
            zdr=value.get("zdr") is True,
        )


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
    body: Mapping[str, Any], catalog: Catalog, rng: random.Random, strict: bool = False
) -> RoutePlan:
    """The attempts for a request body. Raises `RoutingError` when no endpoint is left, or a
    model is missing from a `strict` catalog."""
    prefs = Preferences.parse(body.get("provider"))
    requested = candidates(body) or ("",)
    router = next((m for m in requested if split_variants(m)[0] in ROUTERS), None)
    chosen = [_route_model(m, body, catalog, rng) for m in requested]
    groups: list[list[tuple[str, CatalogModel, Endpoint]]] = []
    problems: list[tuple[str, list[str], str]] = []
    for model_id in chosen:
        model = catalog.get(model_id)
        if model is None:
            if strict:
                raise not_found(model_id, list(requested))
            model = default_model(model_id)
        kept, excluded, detail = endpoints_for(model, model_id, prefs, body, rng)
        if kept:
            groups.append([(model_id, model, e) for e in kept])
        else:
            problems.append((model_id, excluded, detail))
    if not groups:
        raise filtered(problems, list(requested))
    pairs = [p for group in groups for p in group]
    if prefs.partition == "none" and _sort_key(prefs, ()) is not None:
        key = _sort_key(prefs, ())
        assert key is not None
        pairs.sort(key=lambda p: key(p[2]))
    attempts = tuple(Attempt(i + 1, m, e, cm) for i, (m, cm, e) in enumerate(pairs))
    return RoutePlan(requested[0], attempts, router, tuple(chosen))


def endpoints_for(
    model: CatalogModel,
    model_id: str,
    prefs: Preferences,
    body: Mapping[str, Any],
    rng: random.Random,
) -> tuple[list[Endpoint], list[str], str]:
    """The endpoints of `model` that may serve, in the order they are tried; when none is left,
    the `excluded_by` reasons and a sentence naming the constraint."""
    variants = split_variants(model_id)[1]
    pool = [e for e in model.endpoints if _tier_admitted(e, variants)]
    excluded: list[str] = []
    detail = ""
    for reason, keep, what in _filters(prefs, body):
        left = [e for e in pool if keep(e)]
        if not left and pool:
            excluded.append(reason)
            detail = detail or what(model_id, pool)
        pool = left
    if not pool:
        return [], excluded or ["allowed_providers"], detail or f"No endpoints for {model_id}."
    ordered = _ordered(pool, prefs, variants, rng)
    if not ordered:  # provider.order with allow_fallbacks false named none of them
        serving = ", ".join(dict.fromkeys(e.slug for e in pool))
        return (
            [],
            ["allowed_providers"],
            (
                "No allowed providers are available for the selected model. Providers serving "
                f"{model_id}: {serving}, but your request's provider.order preference with "
                f"allow_fallbacks false permits only: {', '.join(prefs.order)}."
            ),
        )
    return ordered, [], ""


# --- filters ---------------------------------------------------------------------------------

Filter = tuple[str, Callable[[Endpoint], bool], Callable[[str, list[Endpoint]], str]]


def _filters(prefs: Preferences, body: Mapping[str, Any]) -> list[Filter]:
    found: list[Filter] = []
    if prefs.only is not None:
        only = prefs.only
        found.append(("allowed_providers", lambda e: _named(e, only), only_message(only)))
    if prefs.ignore:
        ignore = prefs.ignore
        found.append(("allowed_providers", lambda e: not _named(e, ignore), ignore_message(ignore)))
    if prefs.quantizations is not None:
        wanted = prefs.quantizations
        found.append(
            (
                "quantization",
                lambda e: (e.quantization or "unknown") in wanted,
                constraint_message("provider.quantizations", ", ".join(wanted)),
            )
        )
    if prefs.deny_data_collection:
        found.append(
            (
                "data_policy:training",
                lambda e: not (e.training or e.retains_prompts),
                constraint_message("provider.data_collection", "deny"),
            )
        )
    if prefs.zdr:
        found.append(
            ("data_policy:zdr", lambda e: e.zdr, constraint_message("provider.zdr", "true"))
        )
    if prefs.max_price:
        limits = prefs.max_price
        found.append(
            (
                "max_price",
                lambda e: _within(e, limits),
                constraint_message("provider.max_price", shown_prices(limits)),
            )
        )
    if prefs.require_parameters:
        sent = {p for p in PARAMETERS if body.get(p) is not None}
        found.append(
            (
                "require_parameters",
                lambda e: sent <= set(e.supported_parameters),
                constraint_message("provider.require_parameters", ", ".join(sorted(sent))),
            )
        )
    return found


def _named(endpoint: Endpoint, names: Sequence[str]) -> bool:
    """Whether `names` (slugs or display names, any case) name `endpoint`: a base slug names
    every endpoint of the provider, a full slug only its own."""
    wanted = {n.lower() for n in names}
    return bool(
        {endpoint.tag.lower(), endpoint.slug.lower(), endpoint.provider_name.lower()} & wanted
    )


def _tier_admitted(endpoint: Endpoint, variants: tuple[str, ...]) -> bool:
    if endpoint.service_tier == "priority":
        return "nitro" in variants
    if endpoint.service_tier == "flex":
        return "floor" in variants
    return True


def _within(endpoint: Endpoint, limits: Mapping[str, Decimal]) -> bool:
    for key, limit in limits.items():
        unit = MILLION if key in ("prompt", "completion") else Decimal(1)
        if price(endpoint.pricing, key) * unit > limit:
            return False
    return True


# --- order -----------------------------------------------------------------------------------


def _ordered(
    pool: list[Endpoint], prefs: Preferences, variants: tuple[str, ...], rng: random.Random
) -> list[Endpoint]:
    if prefs.order:
        listed: list[Endpoint] = []
        for name in prefs.order:
            listed += [e for e in pool if _named(e, (name,)) and not _among(e, listed)]
        if not prefs.allow_fallbacks:
            return listed
        rest = [e for e in pool if not _among(e, listed)]
        return listed + _balanced(rest, prefs, variants, rng)
    ordered = _balanced(pool, prefs, variants, rng)
    return ordered if prefs.allow_fallbacks else ordered[:1]


def _among(endpoint: Endpoint, endpoints: list[Endpoint]) -> bool:
    return any(endpoint is e for e in endpoints)


def _balanced(
    pool: list[Endpoint], prefs: Preferences, variants: tuple[str, ...], rng: random.Random
) -> list[Endpoint]:
    key = _sort_key(prefs, variants)
    if key is not None:
        return sorted(pool, key=key)
    return _weighted_order(pool, rng)


def _sort_key(prefs: Preferences, variants: tuple[str, ...]) -> Callable[[Endpoint], Any] | None:
    by = prefs.sort
    if by is None:
        by = next(
            (
                s
                for v, s in (("nitro", "throughput"), ("floor", "price"), ("exacto", "exacto"))
                if v in variants
            ),
            None,
        )
    return _SORTS.get(by) if by else None


def _total_price(endpoint: Endpoint) -> Decimal:
    return price(endpoint.pricing, "prompt") + price(endpoint.pricing, "completion")


_SORTS: dict[str, Callable[[Endpoint], Any]] = {
    "price": _total_price,
    "throughput": lambda e: -e.throughput[0],
    "latency": lambda e: e.latency[0],
    "exacto": lambda e: (-e.uptime[0], -e.throughput[0]),
}


def _weighted_order(pool: list[Endpoint], rng: random.Random) -> list[Endpoint]:
    """The default load balancing: a seeded draw without replacement among the price levels,
    each weighted by the inverse square of its price (a free level weighs as the cheapest
    priced one); endpoints of one price keep the catalog's order (its first, the model's top
    provider, before the others), so equal prices never make the serving provider change."""
    levels: dict[Decimal, list[Endpoint]] = {}
    for endpoint in pool:
        levels.setdefault(_total_price(endpoint), []).append(endpoint)
    prices = list(levels)
    floor = min((float(p) for p in prices if p > 0), default=1.0)
    weights = [1.0 / max(float(p), floor) ** 2 for p in prices]
    left = list(range(len(prices)))
    order: list[Endpoint] = []
    while left:
        pick = rng.choices(left, weights=[weights[i] for i in left])[0]
        left.remove(pick)
        order += levels[prices[pick]]
    return order


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


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _max_price(value: Any) -> dict[str, Decimal]:
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, Decimal] = {}
    for key, limit in value.items():
        try:
            out[key] = Decimal(str(limit))
        except ArithmeticError:
            continue
    return {k: v for k, v in out.items() if v.is_finite()}
