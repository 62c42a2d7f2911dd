"""The model catalog: models in the router's `Model` shape, each with its provider endpoints.

A `CatalogModel` holds the wire object `GET /models` serves (spec schema Model) and the
`Endpoint`s routing chooses from (served by `GET /models/{author}/{slug}/endpoints`, spec schema
PublicEndpoint). A `Catalog` is an ordered, immutable set of them; `Catalog.merged` applies a
catalog file's entries (docs/catalog.md) over it. The built-in catalog ships with the package
(`emulator/catalogs/builtin.yaml`); `catalogfile.py` reads files, this module builds models from
their plain entries.

Pure: no I/O beyond reading the package's own data file, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emulator import pricing as pricing_module
from emulator.protocol import provider_for

# Defaults for what a catalog entry leaves out (a user entry may give only `id`).
DEFAULT_CREATED = 1735689600  # 2025-01-01T00:00:00Z
DEFAULT_CONTEXT_LENGTH = 128000
DEFAULT_PARAMETERS = (
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "response_format",
    "structured_outputs",
    "tools",
    "tool_choice",
)
TEXT_ARCHITECTURE: Mapping[str, Any] = {
    "modality": "text->text",
    "input_modalities": ["text"],
    "output_modalities": ["text"],
    "tokenizer": "Other",
    "instruct_type": None,
}
# p75/p90/p99 from a p50, for entries that give one number (latency grows, throughput falls).
LATENCY_SPREAD = (1.3, 1.8, 3.0)
THROUGHPUT_SPREAD = (0.85, 0.65, 0.4)
# Variant suffixes (model-variants docs) a model id may carry after its base slug.
VARIANTS = ("free", "nitro", "floor", "thinking", "extended", "exacto", "online")


@dataclass(frozen=True)
class Endpoint:
    """One provider serving a model (spec schema PublicEndpoint plus the data policy routing
    filters on). `tag` is the provider slug (`deepinfra/turbo`, `google-vertex/europe`); its
    part before `/` is the base slug that matches all of a provider's endpoints.

    Units: prices USD per token (strings), `latency` seconds and `throughput` tokens/s
    (p50, p75, p90, p99 of the last 30 minutes), uptimes percent."""

    provider_name: str
    tag: str
    pricing: Mapping[str, Any]
    context_length: int
    max_completion_tokens: int | None
    max_prompt_tokens: int | None
    quantization: str | None
    supported_parameters: tuple[str, ...]
    latency: tuple[float, float, float, float]
    throughput: tuple[float, float, float, float]
    uptime: tuple[float, float, float]  # last 30 minutes, 5 minutes, 1 day
    status: int = 0
    supports_implicit_caching: bool = False
    training: bool = False
    retains_prompts: bool = False
    zdr: bool = False
    is_moderated: bool = False
    region: str | None = None
    service_tier: str | None = None  # `priority` or `flex` endpoints; None: standard

    @property
    def slug(self) -> str:
        """The provider's base slug: `deepinfra` for `deepinfra/turbo`."""
        return self.tag.partition("/")[0]

    def wire(self, model: CatalogModel) -> dict[str, Any]:
        """This endpoint in the spec's PublicEndpoint shape."""
        return {
            "name": f"{self.provider_name} | {model.id}",
            "model_id": model.id,
            "model_name": model.name,
            "context_length": self.context_length,
            "pricing": dict(self.pricing),
            "provider_name": self.provider_name,
            "tag": self.tag,
            "quantization": self.quantization,
            "max_completion_tokens": self.max_completion_tokens,
            "max_prompt_tokens": self.max_prompt_tokens,
            "supported_parameters": list(self.supported_parameters),
            "status": self.status,
            "uptime_last_30m": self.uptime[0],
            "uptime_last_5m": self.uptime[1],
            "uptime_last_1d": self.uptime[2],
            "supports_implicit_caching": self.supports_implicit_caching,
            "supports_tool_choice": dict.fromkeys(
                ("auto", "none", "required", "function"),
                "tool_choice" in self.supported_parameters,
            ),
            "supports_diarization": False,
            "native_tools": {},
            "service_tier": self.service_tier,
            "latency_last_30m": _percentiles(self.latency),
            "throughput_last_30m": _percentiles(self.throughput),
        }


@dataclass(frozen=True)
class CatalogModel:
    """A catalog model: `data` is its `Model` wire object (spec schema Model), `endpoints` its
    providers in the catalog's order."""

    data: Mapping[str, Any]
    endpoints: tuple[Endpoint, ...]
    source: Mapping[str, Any]  # the catalog entry it was built from (with its `endpoints`)

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def pricing(self) -> Mapping[str, Any]:
        """The model's prices (spec schema PublicPricing): USD per token, as strings."""
        value = self.data["pricing"]
        return value if isinstance(value, Mapping) else pricing_module.DEFAULT_PRICING

    @property
    def is_reasoning(self) -> bool:
        """True for models with reasoning (the `reasoning` key of spec schema Model)."""
        return isinstance(self.data.get("reasoning"), Mapping)

    def wire(self) -> dict[str, Any]:
        """The `Model` object `GET /models` lists."""
        return dict(self.data)

    def endpoints_wire(self) -> dict[str, Any]:
        """`GET /models/{author}/{slug}/endpoints`'s `data` (spec schema ListEndpointsResponse)."""
        architecture = dict(self.data["architecture"])
        architecture.setdefault("tokenizer", None)
        architecture.setdefault("instruct_type", None)
        return {
            "id": self.id,
            "name": self.name,
            "created": self.data["created"],
            "description": self.data.get("description", ""),
            "architecture": architecture,
            "endpoints": [e.wire(self) for e in self.endpoints],
        }


class Catalog:
    """An ordered, immutable set of models, looked up by id (a variant suffix such as `:nitro`
    falls back to the base model; `:free` only matches a catalog entry of its own)."""

    def __init__(self, models: Iterable[CatalogModel] = ()) -> None:
        self._models: dict[str, CatalogModel] = {m.id: m for m in models}

    def __iter__(self) -> Iterator[CatalogModel]:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self.get(model_id) is not None

    def ids(self) -> list[str]:
        return list(self._models)

    def get(self, model_id: str) -> CatalogModel | None:
        """The model `model_id` names, or None. Exact ids first (so `x:free` entries win);
        otherwise known variant suffixes other than `:free` are stripped."""
        found = self._models.get(model_id)
        if found is not None:
            return found
        base, variants = split_variants(model_id)
        if variants and "free" not in variants:
            return self._models.get(base)
        return None

    def pricing_for(self, model_id: str) -> Mapping[str, Any]:
        """The prices of `model_id` (USD per token); `pricing.DEFAULT_PRICING` (free) for a model
        the catalog lacks."""
        model = self.get(model_id)
        return model.pricing if model is not None else pricing_module.DEFAULT_PRICING

    def with_models(self, model_ids: Iterable[str]) -> Catalog:
        """This catalog plus a default entry for each id it lacks (e.g. models named only in
        scenarios), so every model the emulator serves is listed."""
        extra = [default_model(m) for m in model_ids if m and self.get(m) is None]
        if not extra:
            return self
        return Catalog([*self, *{m.id: m for m in extra}.values()])

    def merged(self, entries: Sequence[Mapping[str, Any]], replace: bool = False) -> Catalog:
        """A catalog with `entries` (catalog-file model entries) applied: an entry whose id is
        already present overrides the keys it gives (its `endpoints` replace the old list), one
        with `remove: true` deletes the model, others are added. `replace` starts from empty."""
        sources: dict[str, dict[str, Any]] = {} if replace else {m.id: dict(m.source) for m in self}
        for entry in entries:
            model_id = str(entry["id"])
            if entry.get("remove") is True:
                sources.pop(model_id, None)
                continue
            sources.setdefault(model_id, {}).update(
                {k: v for k, v in entry.items() if k != "remove"}
            )
        return Catalog(build_model(source) for source in sources.values())


def split_variants(model_id: str) -> tuple[str, tuple[str, ...]]:
    """`("meta-llama/llama-3.3-70b-instruct", ("free",))` for `...:free`: the base slug and the
    known variant suffixes, in order. Unknown suffixes stay part of the base."""
    parts = model_id.split(":")
    variants: list[str] = []
    while len(parts) > 1 and parts[-1] in VARIANTS:
        variants.insert(0, parts.pop())
    return ":".join(parts), tuple(variants)


def build_model(entry: Mapping[str, Any]) -> CatalogModel:
    """A `CatalogModel` from a catalog entry (plain data, already schema-checked), with the
    documented defaults filled in. Without `endpoints`, the model gets one endpoint: its
    vendor's provider (`openai/...` → OpenAI)."""
    model_id = str(entry["id"])
    data: dict[str, Any] = {
        "id": model_id,
        "canonical_slug": entry.get("canonical_slug", model_id),
        "hugging_face_id": entry.get("hugging_face_id"),
        "name": entry.get("name", model_id),
        "created": entry.get("created", DEFAULT_CREATED),
        "description": entry.get("description", ""),
        "context_length": entry.get("context_length", DEFAULT_CONTEXT_LENGTH),
        "architecture": dict(entry.get("architecture") or TEXT_ARCHITECTURE),
        "pricing": dict(entry.get("pricing") or pricing_module.DEFAULT_PRICING),
        "top_provider": {},
        "per_request_limits": entry.get("per_request_limits"),
        "supported_parameters": list(entry.get("supported_parameters") or DEFAULT_PARAMETERS),
        "default_parameters": entry.get("default_parameters"),
        "supported_voices": entry.get("supported_voices"),
        "knowledge_cutoff": entry.get("knowledge_cutoff"),
        "expiration_date": entry.get("expiration_date"),
        "links": {"details": f"/api/v1/models/{_base_of(model_id)}/endpoints"},
    }
    if isinstance(entry.get("reasoning"), Mapping):
        data["reasoning"] = dict(entry["reasoning"])
    model = CatalogModel(data, (), entry)
    endpoints = entry.get("endpoints") or [{"provider": provider_for(model_id)}]
    built = tuple(build_endpoint(e, model) for e in endpoints)
    data["top_provider"] = dict(entry.get("top_provider") or _top_provider(data, built))
    return CatalogModel(data, built, entry)


def build_endpoint(entry: Mapping[str, Any], model: CatalogModel) -> Endpoint:
    """An `Endpoint` of `model` from a catalog endpoint entry; what it leaves out comes from the
    model (pricing, context length, supported parameters) or the documented defaults."""
    provider = str(entry["provider"])
    context = entry.get("context_length", model.data["context_length"]) or DEFAULT_CONTEXT_LENGTH
    return Endpoint(
        provider_name=provider,
        tag=str(entry.get("tag") or provider_slug(provider)),
        pricing=dict(entry.get("pricing") or model.pricing),
        context_length=int(context),
        max_completion_tokens=entry.get("max_completion_tokens"),
        max_prompt_tokens=entry.get("max_prompt_tokens"),
        quantization=entry.get("quantization", "unknown"),
        supported_parameters=tuple(
            entry.get("supported_parameters") or model.data["supported_parameters"]
        ),
        latency=_spread(entry.get("latency", 0.5), LATENCY_SPREAD),
        throughput=_spread(entry.get("throughput", 50.0), THROUGHPUT_SPREAD),
        uptime=(
            float(entry.get("uptime", 99.5)),
            float(entry.get("uptime_last_5m", entry.get("uptime", 100.0))),
            float(entry.get("uptime_last_1d", entry.get("uptime", 99.5))),
        ),
        status=int(entry.get("status", 0)),
        supports_implicit_caching=bool(
            entry.get("supports_implicit_caching", "input_cache_read" in model.pricing)
        ),
        training=bool(entry.get("training", False)),
        retains_prompts=bool(entry.get("retains_prompts", False)),
        zdr=bool(entry.get("zdr", False)),
        is_moderated=bool(entry.get("is_moderated", False)),
        region=entry.get("region"),
        service_tier=entry.get("service_tier"),
    )


def provider_slug(provider_name: str) -> str:
    """The slug of a provider's display name: `Amazon Bedrock` → `amazon-bedrock`."""
    return re.sub(r"[^a-z0-9]+", "-", provider_name.lower()).strip("-") or "provider"


def default_model(model_id: str) -> CatalogModel:
    """The entry the emulator uses for a model id the catalog lacks: text in and out, free,
    served by its vendor's provider."""
    return build_model({"id": model_id})


def _base_of(model_id: str) -> str:
    return split_variants(model_id)[0]


def _top_provider(data: Mapping[str, Any], endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    first = endpoints[0] if endpoints else None
    return {
        "context_length": first.context_length if first else data["context_length"],
        "max_completion_tokens": first.max_completion_tokens if first else None,
        "is_moderated": first.is_moderated if first else False,
    }


def _spread(value: Any, factors: tuple[float, float, float]) -> tuple[float, float, float, float]:
    if isinstance(value, Mapping):
        return (
            float(value["p50"]),
            float(value["p75"]),
            float(value["p90"]),
            float(value["p99"]),
        )
    p50 = float(value)
    return (p50, *(round(p50 * f, 3) for f in factors))  # type: ignore[return-value]


def _percentiles(values: tuple[float, float, float, float]) -> dict[str, float]:
    return dict(zip(("p50", "p75", "p90", "p99"), values, strict=True))
