"""The request's provider preferences (spec schema ProviderPreferences; provider-selection docs),
parsed once into a frozen value that provider selection (`emulator.providers`) reads. Pure."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


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
    # preferred_min_throughput (tokens/s) and preferred_max_latency (s): (percentile index into
    # an endpoint's (p50, p75, p90, p99), cut-off) pairs; endpoints missing one go last.
    min_throughput: tuple[tuple[int, float], ...] = ()
    max_latency: tuple[tuple[int, float], ...] = ()

    @property
    def has_thresholds(self) -> bool:
        """Whether the request gives a preferred throughput or latency."""
        return bool(self.min_throughput or self.max_latency)

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
            min_throughput=cutoffs(value.get("preferred_min_throughput")),
            max_latency=cutoffs(value.get("preferred_max_latency")),
        )


PERCENTILES = ("p50", "p75", "p90", "p99")


def cutoffs(value: Any) -> tuple[tuple[int, float], ...]:
    """A preferred threshold (spec schemas PreferredMinThroughput, PreferredMaxLatency): a
    number is the p50 cut-off, an object gives cut-offs per percentile (null: none); as
    (index into p50, p75, p90, p99, cut-off) pairs. An integer beyond a double (JSON allows
    10**400) is a cut-off of +/- infinity: past every endpoint's figure, as it means."""
    if _number(value):
        return ((0, _to_float(value)),)
    if not isinstance(value, Mapping):
        return ()
    return tuple(
        (i, _to_float(value[p])) for i, p in enumerate(PERCENTILES) if _number(value.get(p))
    )


def _to_float(value: float) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
