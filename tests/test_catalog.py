"""The model catalog as plain data: the built-in file, catalog files and their errors, the cost
formula, the /models query filters. No server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.catalog import Catalog, split_variants
from emulator.catalogfile import builtin_catalog, builtin_catalog_text, parse_catalog
from emulator.errors import RequestError, ScenarioError
from emulator.modelquery import parse_query
from emulator.pricing import DEFAULT_PRICING, TokenUsage, compute_cost, usage_cost_fields

SONNET = {"prompt": "0.000003", "completion": "0.000015", "input_cache_read": "0.0000003"}


def test_builtin_catalog_has_current_models_with_endpoints() -> None:
    """The shipped catalog has at least 30 models, each with at least one endpoint."""
    catalog = builtin_catalog()
    assert len(catalog) >= 30
    assert all(model.endpoints for model in catalog)
    assert "anthropic/claude-sonnet-4.5" in catalog


def test_builtin_catalog_passes_the_catalog_file_schema() -> None:
    """The shipped catalog passes the schema check that start-up skips for it."""
    checked = parse_catalog(builtin_catalog_text(), "builtin.yaml")
    assert len(checked.entries) == len(builtin_catalog())


def test_builtin_catalog_from_the_disk_cache_equals_the_parsed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up reads the built-in catalog's parsed entries from the disk cache; they give
    the same catalog as parsing the file (first run: parsed and cached; second: read back)."""
    monkeypatch.setenv("CHAT_EMULATOR_CACHE_DIR", str(tmp_path))
    parsed = parse_catalog(builtin_catalog_text(), "builtin.yaml").apply(Catalog())
    try:
        builtin_catalog.cache_clear()
        first = builtin_catalog()
        (cached,) = (tmp_path / "chat-emulator").iterdir()
        assert cached.name.startswith("catalog-")
        builtin_catalog.cache_clear()
        second = builtin_catalog()
    finally:
        builtin_catalog.cache_clear()
    assert list(first) == list(second) == list(parsed)


def test_endpoint_defaults_come_from_the_model() -> None:
    """An endpoint without pricing or parameters inherits the model's."""
    model = builtin_catalog().get("openai/gpt-4o")
    assert model is not None
    first = model.endpoints[0]
    assert first.pricing == model.pricing
    assert list(first.supported_parameters) == model.data["supported_parameters"]
    assert model.data["links"] == {"details": "/api/v1/models/openai/gpt-4o/endpoints"}


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("openai/gpt-4o", ("openai/gpt-4o", ())),
        ("openai/gpt-4o:nitro", ("openai/gpt-4o", ("nitro",))),
        ("openai/gpt-oss-20b:free:online", ("openai/gpt-oss-20b", ("free", "online"))),
        ("acme/model:v2", ("acme/model:v2", ())),
    ],
)
def test_split_variants(model_id: str, expected: tuple[str, tuple[str, ...]]) -> None:
    """Known variant suffixes are split off the base slug; unknown ones stay."""
    assert split_variants(model_id) == expected


def test_variant_lookup_falls_back_to_the_base_model_except_free() -> None:
    """`:nitro` finds the base model; `:free` only finds a free entry of its own."""
    catalog = builtin_catalog()
    assert catalog.get("openai/gpt-4o:floor") is catalog.get("openai/gpt-4o")
    assert catalog.get("openai/gpt-4o:free") is None
    free = catalog.get("openai/gpt-oss-20b:free")
    assert free is not None and free.pricing["prompt"] == "0"


def test_a_catalog_file_adds_overrides_and_removes() -> None:
    """Entries add new models, override the keys they give, and `remove: true` deletes."""
    text = """
models:
  - id: acme/rocket-1
    name: "Acme: Rocket 1"
    pricing: {prompt: "0.000001", completion: "0.000002"}
    endpoints:
      - {provider: Together, tag: together/fp8, quantization: fp8, throughput: 300}
  - id: openai/gpt-4o
    context_length: 64000
  - id: openai/gpt-4o-mini
    remove: true
"""
    catalog = parse_catalog(text, "extra.yaml").apply(builtin_catalog())
    rocket = catalog.get("acme/rocket-1")
    assert rocket is not None and rocket.name == "Acme: Rocket 1"
    assert rocket.endpoints[0].throughput[0] == 300
    assert rocket.endpoints[0].pricing == {"prompt": "0.000001", "completion": "0.000002"}
    gpt4o = catalog.get("openai/gpt-4o")
    assert gpt4o is not None and gpt4o.data["context_length"] == 64000
    assert gpt4o.name == "OpenAI: GPT-4o"  # the keys not given are kept
    assert "openai/gpt-4o-mini" not in catalog


def test_replace_drops_the_builtin_models() -> None:
    """`replace: true` makes the file the whole catalog."""
    catalog = parse_catalog("replace: true\nmodels: [{id: acme/only}]\n").apply(builtin_catalog())
    assert catalog.ids() == ["acme/only"]


def test_a_minimal_entry_gets_documented_defaults() -> None:
    """An entry with only an id is a free text model served by its vendor's provider."""
    model = (
        parse_catalog("models: [{id: anthropic/new-model}]")
        .apply(Catalog())
        .get("anthropic/new-model")
    )
    assert model is not None
    assert model.pricing == DEFAULT_PRICING
    assert [e.provider_name for e in model.endpoints] == ["Anthropic"]
    assert model.data["architecture"]["input_modalities"] == ["text"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "models:\n  - id: acme/a\n    pricing: {prompt: 1}\n",
            "cat.yaml:3: models[0].pricing.prompt: 1 is not of type 'string'",
        ),
        (
            "models:\n  - id: acme/a\n    colour: red\n",
            "cat.yaml:3: models[0]: unknown key 'colour'; valid keys are: architecture, canonical_slug",
        ),
        (
            "models:\n  - id: acme/a\n  - id: acme/a\n",
            "cat.yaml:3: duplicate model id 'acme/a' (first at line 2)",
        ),
        (
            "models:\n  - id: acme/a:nitro\n",
            "cat.yaml:2: model id 'acme/a:nitro' ends in a routing variant (:nitro)",
        ),
        (
            "models:\n  - id: acme/a\n    endpoints: [{provider: X, quantization: fp7}]\n",
            "cat.yaml:3: models[0].endpoints[0].quantization: 'fp7' is not one of: \"int4\"",
        ),
        ("models: [\n", "cat.yaml:2: YAML syntax error"),
        ("  \n", "cat.yaml:1: empty catalog file"),
        ("# only a comment\n", "cat.yaml:1: empty catalog file"),
        (
            "modles: []\n",
            "cat.yaml:1: the file: unknown key 'modles'; valid keys are: models, replace",
        ),
    ],
)
def test_a_broken_catalog_file_names_file_and_line(text: str, message: str) -> None:
    """Every problem in a catalog file is reported as file:line: message."""
    with pytest.raises(ScenarioError) as caught:
        parse_catalog(text, "cat.yaml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_cost_formula() -> None:
    """Uncached prompt, cached prompt and completion tokens at their prices, in USD."""
    usage = TokenUsage(
        prompt_tokens=1000, completion_tokens=200, reasoning_tokens=50, cached_tokens=400
    )
    cost = compute_cost(SONNET, usage)
    assert cost.prompt == pytest.approx(600 * 3e-6 + 400 * 0.3e-6, rel=1e-12)
    assert cost.completion == pytest.approx(200 * 15e-6, rel=1e-12)
    assert cost.cost == pytest.approx(cost.prompt + cost.completion, rel=1e-12)
    assert cost.details() == {
        "upstream_inference_cost": None,
        "upstream_inference_prompt_cost": cost.prompt,
        "upstream_inference_completions_cost": cost.completion,
    }


def test_cost_uses_long_prompt_overrides_and_request_fee() -> None:
    """An override applies to prompts longer than its min_prompt_tokens; `request` is per call."""
    pricing: dict[str, Any] = {
        "prompt": "0.000001",
        "completion": "0.000002",
        "request": "0.01",
        "overrides": [{"min_prompt_tokens": 100, "prompt": "0.000005"}],
    }
    assert compute_cost(pricing, TokenUsage(100, 0), "stop").cost == pytest.approx(100e-6 + 0.01)
    assert compute_cost(pricing, TokenUsage(101, 0), "stop").cost == pytest.approx(505e-6 + 0.01)


@pytest.mark.parametrize(
    ("completion_tokens", "finish_reason"), [(0, None), (0, ""), (10, "error")]
)
def test_zero_completion_insurance(completion_tokens: int, finish_reason: str | None) -> None:
    """No completion and no finish reason, or finish reason error: nothing is charged."""
    assert compute_cost(SONNET, TokenUsage(50, completion_tokens), finish_reason).cost == 0


def test_unknown_model_costs_nothing() -> None:
    """A model the catalog lacks gets the default (free) pricing."""
    assert builtin_catalog().pricing_for("acme/unknown") == DEFAULT_PRICING
    assert compute_cost(DEFAULT_PRICING, TokenUsage(10, 10)).cost == 0


def test_usage_cost_fields() -> None:
    """cost, cost_details and is_byok for a usage object, from its counts and details."""
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 5},
    }
    fields = usage_cost_fields(SONNET, usage)
    assert fields["cost"] == pytest.approx(10 * 3e-6 + 20 * 15e-6, rel=1e-12)
    assert fields["is_byok"] is False
    assert set(fields["cost_details"]) == {
        "upstream_inference_cost",
        "upstream_inference_prompt_cost",
        "upstream_inference_completions_cost",
    }


def _ids(params: dict[str, str]) -> list[str]:
    return [m.id for m in parse_query(params).select(builtin_catalog())]


def test_query_filters() -> None:
    """Each documented filter narrows the list by the catalog's data."""
    assert all(i.startswith("anthropic/") for i in _ids({"model_authors": "anthropic"}))
    assert "openai/gpt-4o" in _ids({"q": "GPT-4o"})
    assert "openai/gpt-4o" not in _ids({"context": "200000"})
    assert all(
        "groq" in json.dumps([e.tag for e in builtin_catalog().get(i).endpoints])
        for i in _ids({"providers": "groq"})
    )  # type: ignore[union-attr]
    assert "openai/gpt-5" in _ids({"supported_parameters": "reasoning,tools"})
    assert "openai/gpt-4o" not in _ids({"supported_parameters": "reasoning"})
    assert _ids({"max_price": "0"}) == [
        m.id for m in builtin_catalog() if m.pricing["prompt"] == "0"
    ]
    assert "google/gemini-2.5-flash" in _ids({"input_modalities": "audio"})
    assert _ids({"output_modalities": "image"}) == []
    assert len(_ids({"output_modalities": "all"})) == len(builtin_catalog())


def test_query_sort_and_paging() -> None:
    """sort orders the list; offset/limit page it and links.next names the next page."""
    cheap = _ids({"sort": "pricing-low-to-high"})
    assert builtin_catalog().get(cheap[0]).pricing["prompt"] == "0"  # type: ignore[union-attr]
    newest = _ids({"sort": "newest"})
    created = [builtin_catalog().get(i).data["created"] for i in newest]  # type: ignore[union-attr]
    assert created == sorted(created, reverse=True)
    page = parse_query({"limit": "5", "offset": "0"}).listing(builtin_catalog(), "/api/v1/models")
    assert len(page["data"]) == 5
    assert page["total_count"] == len(builtin_catalog())
    assert page["links"]["next"] == "/api/v1/models?offset=5&limit=5"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"sort": "cheapest"},
            "invalid value 'cheapest' for query parameter 'sort'; valid values are: most-popular",
        ),
        (
            {"sort": ""},
            "invalid value '' for query parameter 'sort'; valid values are: most-popular",
        ),
        ({"limit": "0"}, "query parameter 'limit' must be an integer from 1 to 1000, got '0'"),
        (
            {"offset": "-1"},
            "query parameter 'offset' must be an integer from 0 to 999999999999999999, got '-1'",
        ),
        (
            {"limit": "\uff15"},
            "query parameter 'limit' must be an integer from 1 to 1000, got '\uff15'",
        ),
        ({"limit": " 5"}, "query parameter 'limit' must be an integer from 1 to 1000, got ' 5'"),
        (
            {"output_modalities": "smell"},
            "invalid value 'smell' for query parameter 'output_modalities'",
        ),
        ({"max_price": "cheap"}, "query parameter 'max_price' must be a number >= 0, got 'cheap'"),
        (
            {"region": "mars"},
            "invalid value 'mars' for query parameter 'region'; valid values are: eu, us",
        ),
    ],
)
def test_bad_query_values_are_a_400_naming_the_parameter(
    params: dict[str, str], message: str
) -> None:
    """A bad filter value is a 400 naming the parameter and the valid values."""
    with pytest.raises(RequestError) as caught:
        parse_query(params)
    assert caught.value.status == 400
    assert caught.value.message.startswith(message)
