"""The routing plan as plain data: candidates, provider filters and order, variants, routers,
determinism of the default load balancing, and the availability errors. No server."""

from __future__ import annotations

import random
from typing import Any

import pytest

from emulator.catalogfile import builtin_catalog
from emulator.routing import candidates, is_free, plan_route
from emulator.unavailable import RoutingError

LLAMA = "meta-llama/llama-3.3-70b-instruct"


def tags(body: dict[str, Any], seed: int = 0) -> list[str]:
    plan = plan_route(body, builtin_catalog(), random.Random(seed))
    return [f"{a.model}@{a.endpoint.tag}" for a in plan.attempts]


def test_candidates_are_model_then_models() -> None:
    """model first, then models[] in order, each once."""
    body = {"model": "a/x", "models": ["b/y", "a/x", "c/z"]}
    assert candidates(body) == ("a/x", "b/y", "c/z")


def test_default_load_balancing_is_deterministic_for_a_seed() -> None:
    """The same seed and request give the same order; equal prices keep the catalog's order."""
    body = {"model": LLAMA, "messages": []}
    assert tags(body, 1) == tags(body, 1)
    orders = {tuple(tags(body, seed)) for seed in range(30)}
    assert len(orders) > 1  # the seed changes the draw
    assert tags({"model": "openai/gpt-4o"}, 7)[0] == "openai/gpt-4o@openai"


@pytest.mark.parametrize(
    ("sort", "first"),
    [("price", "deepinfra/turbo"), ("throughput", "cerebras"), ("latency", "groq")],
)
def test_sort(sort: str, first: str) -> None:
    """provider.sort orders the endpoints by price, throughput or latency."""
    assert tags({"model": LLAMA, "provider": {"sort": sort}})[0] == f"{LLAMA}@{first}"


def test_order_with_and_without_fallbacks() -> None:
    """order puts the listed providers first; allow_fallbacks false keeps only them."""
    prefs = {"order": ["groq", "together"]}
    found = tags({"model": LLAMA, "provider": prefs})
    assert found[:2] == [f"{LLAMA}@groq", f"{LLAMA}@together/fp8"] and len(found) == 6
    only_listed = tags({"model": LLAMA, "provider": {**prefs, "allow_fallbacks": False}})
    assert only_listed == [f"{LLAMA}@groq", f"{LLAMA}@together/fp8"]


def test_base_slug_matches_every_endpoint_of_the_provider() -> None:
    """`deepinfra` names deepinfra/turbo and deepinfra/bf16; a full slug only its own."""
    assert tags({"model": LLAMA, "provider": {"only": ["deepinfra"], "sort": "price"}}) == [
        f"{LLAMA}@deepinfra/turbo",
        f"{LLAMA}@deepinfra/bf16",
    ]
    assert tags({"model": LLAMA, "provider": {"only": ["deepinfra/bf16"]}}) == [
        f"{LLAMA}@deepinfra/bf16"
    ]


@pytest.mark.parametrize(
    ("prefs", "kept"),
    [
        ({"ignore": ["deepinfra", "groq", "cerebras"]}, {"together/fp8", "sambanova"}),
        ({"quantizations": ["bf16"]}, {"deepinfra/bf16", "sambanova"}),
        ({"max_price": {"prompt": 0.2, "completion": 0.4}}, {"deepinfra/turbo"}),
        ({"zdr": True}, {"groq", "cerebras", "sambanova"}),
    ],
)
def test_filters(prefs: dict[str, Any], kept: set[str]) -> None:
    """ignore, quantizations, max_price and zdr keep only the endpoints that qualify."""
    assert {t.split("@")[1] for t in tags({"model": LLAMA, "provider": prefs})} == kept


def test_data_collection_deny_and_require_parameters() -> None:
    """deny drops providers that train on or keep prompts; require_parameters those lacking one."""
    deny = tags({"model": "google/gemini-2.5-flash", "provider": {"data_collection": "deny"}})
    assert "google/gemini-2.5-flash@google-ai-studio" not in deny
    body = {
        "model": "openai/gpt-4o",
        "logit_bias": {"1": 1},
        "provider": {"require_parameters": True},
    }
    assert len(tags(body)) == 2
    body = {
        "model": "mistralai/mistral-large",
        "logit_bias": {"1": 1},
        "provider": {"require_parameters": True},
    }
    with pytest.raises(RoutingError) as caught:
        tags(body)
    assert caught.value.availability["excluded_by"] == ["require_parameters"]


def test_only_leaving_nothing_is_a_404_naming_the_constraint() -> None:
    """provider.only matching no endpoint: the router's 404 constraint_filtered error."""
    with pytest.raises(RoutingError) as caught:
        tags({"model": "openai/gpt-4o-mini", "provider": {"only": ["groq"]}})
    error = caught.value
    assert error.status == 404
    assert error.message == (
        "No allowed providers are available for the selected model. Providers serving "
        "openai/gpt-4o-mini: openai, azure, but your request's provider.only preference "
        "permits only: groq."
    )
    assert error.availability == {
        "code": "constraint_filtered",
        "retryable": False,
        "requested_models": ["openai/gpt-4o-mini"],
        "excluded_by": ["allowed_providers"],
        "constraint": {"field": "provider.only", "detail": error.message},
        "docs_url": "https://openrouter.ai/docs/errors#constraint_filtered",
    }


def test_a_filtered_model_is_skipped_for_the_next_candidate() -> None:
    """A candidate with no endpoint left is skipped; the next one serves."""
    body = {"model": "openai/gpt-4o", "models": [LLAMA], "provider": {"only": ["groq"]}}
    assert tags(body) == [f"{LLAMA}@groq"]


def test_partition_none_sorts_every_candidates_endpoints_together() -> None:
    """sort.partition none mixes the endpoints of every model."""
    body = {
        "model": "openai/gpt-4o",
        "models": [LLAMA],
        "provider": {"sort": {"by": "throughput", "partition": "none"}},
    }
    assert tags(body)[0] == f"{LLAMA}@cerebras"
    grouped = {**body, "provider": {"sort": {"by": "throughput", "partition": "model"}}}
    assert tags(grouped)[0].startswith("openai/gpt-4o@")


@pytest.mark.parametrize(
    ("suffix", "first"), [(":nitro", "cerebras"), (":floor", "deepinfra/turbo")]
)
def test_variants_sort(suffix: str, first: str) -> None:
    """:nitro sorts by throughput, :floor by price."""
    assert tags({"model": LLAMA + suffix})[0] == f"{LLAMA}{suffix}@{first}"


def test_free_variant_and_routers() -> None:
    """:free uses the free entry; openrouter/auto and openrouter/free pick catalog models."""
    assert tags({"model": LLAMA + ":free"}) == [f"{LLAMA}:free@chutes/fp8"]
    assert is_free(LLAMA + ":free") and is_free("openrouter/free") and not is_free(LLAMA)
    free = plan_route({"model": "openrouter/free"}, builtin_catalog(), random.Random(3))
    assert free.attempts[0].model.endswith(":free") and free.router == "openrouter/free"
    auto = plan_route(
        {"model": "openrouter/auto", "tools": [{}]}, builtin_catalog(), random.Random(3)
    )
    assert ":free" not in auto.attempts[0].model
    assert "tools" in auto.attempts[0].catalog_model.data["supported_parameters"]


def test_strict_catalog_refuses_unknown_models() -> None:
    """With a strict catalog an unknown model is the 400 model_not_found error."""
    with pytest.raises(RoutingError) as caught:
        plan_route({"model": "acme/nothing"}, builtin_catalog(), random.Random(0), strict=True)
    assert (caught.value.status, caught.value.message) == (
        400,
        "acme/nothing is not a valid model ID",
    )
    assert caught.value.availability["code"] == "model_not_found"
    lenient = plan_route({"model": "acme/nothing"}, builtin_catalog(), random.Random(0))
    assert [a.endpoint.provider_name for a in lenient.attempts] == ["OpenAI"]
