"""Provider selection: which endpoints of one model may serve a request, in which order
(provider-selection docs, spec schema ProviderPreferences).

The filters `only`, `ignore`, `quantizations`, `max_price`, `require_parameters`,
`data_collection: deny` and `zdr` drop endpoints; `order` puts listed providers first (the rest
follow unless `allow_fallbacks` is false); `sort` (`price`, `throughput`, `latency`, `exacto`)
orders them; with neither, the default load balancing orders them by a seeded draw weighted by
the inverse square of the price. A base slug (`google-vertex`) matches every endpoint of that
provider (`google-vertex/europe`), a full slug (`deepinfra/turbo`) only that one.
The default load balancing tries the endpoints with a recent outage (`emulator.outages`) last,
unless `only` names them. `preferred_min_throughput` and `preferred_max_latency` move the
endpoints that miss them behind the others (after the listed ones of `order`), never dropping
them.

Pure: no I/O, no clock; the random generator is passed in (seeded per request).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from emulator.catalog import CatalogModel, Endpoint, split_variants
from emulator.preferences import Preferences
from emulator.pricing import price
from emulator.unavailable import constraint_message, ignore_message, only_message, shown_prices

MILLION = Decimal(1_000_000)
Down = Callable[[Endpoint], bool]  # whether an endpoint had an outage in the last 30 s
# Request parameters an endpoint may support (spec schema Parameter), for require_parameters.
PARAMETERS = (
    "temperature", "top_p", "top_k", "min_p", "top_a", "frequency_penalty", "presence_penalty",
    "repetition_penalty", "max_tokens", "max_completion_tokens", "logit_bias", "logprobs",
    "top_logprobs", "prediction", "seed", "response_format", "structured_outputs", "stop",
    "tools", "tool_choice", "parallel_tool_calls", "include_reasoning", "reasoning",
    "reasoning_effort", "web_search_options", "verbosity",
)  # fmt: skip


@dataclass(frozen=True)
class Endpoints:
    """A model's endpoints that may serve, in the order they are tried. When none is left:
    the `excluded_by` reasons and a sentence naming the constraint, or (`unfit` not empty)
    the endpoints the preferences allowed whose context window cannot hold the request."""

    ordered: list[Endpoint]
    excluded: list[str] = field(default_factory=list)
    detail: str = ""
    unfit: tuple[Endpoint, ...] = ()


def endpoints_for(
    model: CatalogModel,
    model_id: str,
    prefs: Preferences,
    body: Mapping[str, Any],
    rng: random.Random,
    fit: Callable[[Endpoint], bool] | None = None,
    down: Down | None = None,
) -> Endpoints:
    """The endpoints of `model` that may serve `body`: allowed by `prefs` and, with `fit`,
    able to hold the request (emulator.contextfit), in the order they are tried; `down` tells
    the endpoints with a recent outage, which the default load balancing tries last."""
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
        return Endpoints(
            [], excluded or ["allowed_providers"], detail or f"No endpoints for {model_id}."
        )
    allowed = pool
    if fit is not None:
        pool = [e for e in pool if fit(e)]
        if not pool:
            return Endpoints([], ["context_length"], unfit=tuple(allowed))
    ordered = _ordered(pool, prefs, variants, rng, down)
    if not ordered:  # provider.order with allow_fallbacks false named none of them
        named = tuple(e for e in allowed if any(_named(e, (n,)) for n in prefs.order))
        if named:  # it named some, but their windows are too small
            return Endpoints([], ["context_length"], unfit=named)
        serving = ", ".join(dict.fromkeys(e.slug for e in allowed))
        return Endpoints(
            [],
            ["allowed_providers"],
            (
                "No allowed providers are available for the selected model. Providers serving "
                f"{model_id}: {serving}, but your request's provider.order preference with "
                f"allow_fallbacks false permits only: {', '.join(prefs.order)}."
            ),
        )
    return Endpoints(ordered)


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
    pool: list[Endpoint],
    prefs: Preferences,
    variants: tuple[str, ...],
    rng: random.Random,
    down: Down | None = None,
) -> list[Endpoint]:
    if prefs.order:
        listed: list[Endpoint] = []
        for name in prefs.order:
            listed += [e for e in pool if _named(e, (name,)) and not _among(e, listed)]
        if not prefs.allow_fallbacks:
            return listed
        rest = [e for e in pool if not _among(e, listed)]
        return listed + preferred_first(_balanced(rest, prefs, variants, rng, down), prefs)
    ordered = preferred_first(_balanced(pool, prefs, variants, rng, down), prefs)
    return ordered if prefs.allow_fallbacks else ordered[:1]


def preferred(endpoint: Endpoint, prefs: Preferences) -> bool:
    """Whether `endpoint` meets every cut-off of `preferred_min_throughput` (tokens/s, at or
    above) and `preferred_max_latency` (seconds, at or below), percentile by percentile of its
    catalog figures (GET /models/{author}/{slug}/endpoints: `throughput_last_30m`,
    `latency_last_30m`)."""
    return all(endpoint.throughput[i] >= cut for i, cut in prefs.min_throughput) and all(
        endpoint.latency[i] <= cut for i, cut in prefs.max_latency
    )


def preferred_first(endpoints: list[Endpoint], prefs: Preferences) -> list[Endpoint]:
    """`endpoints` with those missing a preferred threshold moved last, each group in its
    order: deprioritized, never excluded (spec schemas PreferredMinThroughput,
    PreferredMaxLatency)."""
    if not prefs.has_thresholds:
        return endpoints
    return sorted(endpoints, key=lambda e: not preferred(e, prefs))


def _among(endpoint: Endpoint, endpoints: list[Endpoint]) -> bool:
    return any(endpoint is e for e in endpoints)


def _balanced(
    pool: list[Endpoint],
    prefs: Preferences,
    variants: tuple[str, ...],
    rng: random.Random,
    down: Down | None = None,
) -> list[Endpoint]:
    key = sort_key(prefs, variants)
    if key is not None:
        return sorted(pool, key=key)
    if down is None:
        return _weighted_order(pool, rng)
    # The default strategy skips providers with a recent outage (emulator.outages): they are
    # the last fallbacks, unless the request pins them with `only`.
    out = [e for e in pool if down(e) and not (prefs.only and _named(e, prefs.only))]
    stable = [e for e in pool if not _among(e, out)]
    return _weighted_order(stable, rng) + (_weighted_order(out, rng) if out else [])


def sort_key(prefs: Preferences, variants: tuple[str, ...]) -> Callable[[Endpoint], Any] | None:
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
