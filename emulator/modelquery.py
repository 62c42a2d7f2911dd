"""`GET /models` query parameters (spec operation getModels) → the filtered, sorted, paged list.

Filters the emulator has data for: `output_modalities` (comma-separated or `all`; default
`text`), `input_modalities`, `supported_parameters` (every one listed), `q` (in the id or name),
`context` (minimum context length), `min_price`/`max_price` and `min_output_price`/
`max_output_price` (USD per million prompt/completion tokens), `arch` (tokenizer family),
`model_authors`, `providers` (name or slug of any endpoint), `zdr=true`, `region` (`eu`/`us`).
`sort` orders by price, context, throughput, latency or newest; the popularity and benchmark
sorts keep the catalog's order (the emulator has no such data), as does `category`.
`offset`/`limit` page the list (`links.next` names the next page); without both, the full list
is returned. A value that is not valid is a 400 naming the parameter and the valid values.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from emulator.catalog import CatalogModel
from emulator.errors import RequestError
from emulator.pricing import price

SORTS = (
    "most-popular",
    "newest",
    "top-weekly",
    "pricing-low-to-high",
    "pricing-high-to-low",
    "context-high-to-low",
    "throughput-high-to-low",
    "latency-low-to-high",
    "intelligence-high-to-low",
    "coding-high-to-low",
    "agentic-high-to-low",
    "design-arena-elo-high-to-low",
)
OUTPUT_MODALITIES = ("text", "image", "embeddings", "audio", "video", "rerank", "speech")
INPUT_MODALITIES = ("text", "image", "file", "audio", "video")
_DIGITS = re.compile("[0-9]{1,18}")
MAX_OFFSET = 10**18 - 1
MAX_LIMIT = 1000
DEFAULT_LIMIT = 500
MILLION = Decimal(1_000_000)
Predicate = Callable[[CatalogModel], bool]


@dataclass(frozen=True)
class ModelQuery:
    """Parsed query: the filters every listed model passes, the sort, the page."""

    predicates: tuple[Predicate, ...]
    sort: str | None
    offset: int | None
    limit: int | None
    params: Mapping[str, str]

    def select(self, models: Iterable[CatalogModel]) -> list[CatalogModel]:
        """The models passing every filter, in the requested order (not paged)."""
        found = [m for m in models if all(p(m) for p in self.predicates)]
        key = _SORT_KEYS.get(self.sort or "")
        return sorted(found, key=key) if key is not None else found

    def listing(self, models: Iterable[CatalogModel], path: str) -> dict[str, Any]:
        """The `GET /models` body (spec schema ModelsListResponse) for the models at `path`."""
        selected = self.select(models)
        total = len(selected)
        if self.offset is None and self.limit is None:
            return {
                "data": [m.wire() for m in selected],
                "total_count": total,
                "links": _next(None),
            }
        offset = self.offset or 0
        limit = self.limit or DEFAULT_LIMIT
        page = selected[offset : offset + limit]
        following = None
        if offset + limit < total:
            following = (
                f"{path}?{urlencode({**self.params, 'offset': offset + limit, 'limit': limit})}"
            )
        return {"data": [m.wire() for m in page], "total_count": total, "links": _next(following)}


def parse_query(params: Mapping[str, str]) -> ModelQuery:
    """A `ModelQuery` from the request's query parameters; RequestError(400) for a bad value."""
    predicates: list[Predicate] = [_output_filter(params.get("output_modalities", "text"))]
    if params.get("input_modalities"):
        wanted = _csv(params, "input_modalities", INPUT_MODALITIES)
        predicates.append(lambda m: wanted <= set(m.data["architecture"]["input_modalities"]))
    if params.get("supported_parameters"):
        needed = _csv(params, "supported_parameters", None)
        predicates.append(lambda m: needed <= set(m.data["supported_parameters"]))
    if params.get("q"):
        text = params["q"].lower()
        predicates.append(lambda m: text in m.id.lower() or text in m.name.lower())
    if params.get("context"):
        context = _number(params, "context")
        predicates.append(lambda m: (m.data["context_length"] or 0) >= context)
    for name, key, minimum in _PRICE_FILTERS:
        if params.get(name):
            predicates.append(_price_filter(key, _number(params, name), minimum))
    if params.get("arch"):
        arch = params["arch"].lower()
        predicates.append(lambda m: str(m.data["architecture"].get("tokenizer")).lower() == arch)
    if params.get("model_authors"):
        authors = _csv(params, "model_authors", None)
        predicates.append(lambda m: m.id.partition("/")[0].lower() in authors)
    if params.get("providers"):
        wanted_providers = _csv(params, "providers", None)
        predicates.append(lambda m: any(_serves(e, wanted_providers) for e in m.endpoints))
    if params.get("zdr"):
        _choice(params, "zdr", ("true",))
        predicates.append(lambda m: any(e.zdr for e in m.endpoints))
    if params.get("region"):
        region = _choice(params, "region", ("eu", "us"))
        predicates.append(lambda m: any(e.region in (region, None) for e in m.endpoints))
    sort = _choice(params, "sort", SORTS) if "sort" in params else None  # `sort=` is a 400
    offset = _integer(params, "offset", 0, MAX_OFFSET)
    limit = _integer(params, "limit", 1, MAX_LIMIT)
    kept = {k: v for k, v in params.items() if k not in ("offset", "limit")}
    return ModelQuery(tuple(predicates), sort, offset, limit, kept)


_PRICE_FILTERS = (
    ("min_price", "prompt", True),
    ("max_price", "prompt", False),
    ("min_output_price", "completion", True),
    ("max_output_price", "completion", False),
)


def _output_filter(value: str) -> Predicate:
    if value.strip().lower() == "all":
        return lambda m: True
    wanted = {v.strip().lower() for v in value.split(",") if v.strip()}
    bad = sorted(wanted - set(OUTPUT_MODALITIES))
    if bad or not wanted:
        raise _bad("output_modalities", value, ("all", *OUTPUT_MODALITIES))
    return lambda m: bool(wanted & set(m.data["architecture"]["output_modalities"]))


def _price_filter(key: str, bound: Decimal, minimum: bool) -> Predicate:
    def check(model: CatalogModel) -> bool:
        per_million = price(model.pricing, key) * MILLION
        return per_million >= bound if minimum else per_million <= bound

    return check


def _serves(endpoint: Any, wanted: set[str]) -> bool:
    return endpoint.provider_name.lower() in wanted or endpoint.slug in wanted


def _csv(params: Mapping[str, str], name: str, valid: tuple[str, ...] | None) -> set[str]:
    values = {v.strip().lower() for v in params[name].split(",") if v.strip()}
    if valid is not None and (not values or values - set(valid)):
        raise _bad(name, params[name], valid)
    return values


def _choice(params: Mapping[str, str], name: str, valid: tuple[str, ...]) -> str:
    value = params[name]
    if value not in valid:
        raise _bad(name, value, valid)
    return value


def _number(params: Mapping[str, str], name: str) -> Decimal:
    try:
        value = Decimal(params[name])
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        raise RequestError(
            400, f"query parameter {name!r} must be a number >= 0, got {params[name]!r}"
        )
    return value


def _integer(params: Mapping[str, str], name: str, low: int, high: int | None) -> int | None:
    if name not in params:
        return None
    raw = params[name]
    # ASCII digits only: str.isdigit() also admits other scripts' digits and int() spaces.
    if not _DIGITS.fullmatch(raw) or int(raw) < low or (high is not None and int(raw) > high):
        bounds = f"from {low} to {high}" if high is not None else f">= {low}"
        raise RequestError(
            400, f"query parameter {name!r} must be an integer {bounds}, got {raw!r}"
        )
    return int(raw)


def _bad(name: str, value: str, valid: Iterable[str] | None) -> RequestError:
    allowed = f"; valid values are: {', '.join(valid)}" if valid else ""
    return RequestError(400, f"invalid value {value!r} for query parameter {name!r}{allowed}")


def _next(url: str | None) -> dict[str, Any]:
    return {"next": url}


def _average_price(model: CatalogModel) -> Decimal:
    return (price(model.pricing, "prompt") + price(model.pricing, "completion")) / 2


def _best(model: CatalogModel, attribute: str, best: Callable[..., float]) -> float:
    values = [getattr(e, attribute)[0] for e in model.endpoints]
    return best(values) if values else 0.0


_SORT_KEYS: dict[str, Callable[[CatalogModel], Any]] = {
    "newest": lambda m: -int(m.data["created"]),
    "pricing-low-to-high": _average_price,
    "pricing-high-to-low": lambda m: -_average_price(m),
    "context-high-to-low": lambda m: -(m.data["context_length"] or 0),
    "throughput-high-to-low": lambda m: -_best(m, "throughput", max),
    "latency-low-to-high": lambda m: _best(m, "latency", min),
}
