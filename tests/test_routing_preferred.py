"""provider.preferred_min_throughput and preferred_max_latency: endpoints missing a cut-off go
behind the others (never dropped), per percentile of the catalog's figures; with partition
"none" a fallback model's endpoint can win. As plain data and through both SDKs."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from openai import OpenAI
from openrouter import OpenRouter

from emulator.catalogfile import builtin_catalog
from emulator.preferences import cutoffs
from emulator.routing import plan_route
from emulator.testing import EmulatorServer

LLAMA = "meta-llama/llama-3.3-70b-instruct"
USER = [{"role": "user", "content": "Hi"}]


def tags(body: dict[str, Any], seed: int = 0) -> list[str]:
    plan = plan_route(body, builtin_catalog(), random.Random(seed))
    return [a.endpoint.tag if a.model == body["model"] else a.model for a in plan.attempts]


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (100, ((0, 100.0),)),
        (2.5, ((0, 2.5),)),
        ({"p50": 1, "p90": 3}, ((0, 1.0), (2, 3.0))),
        ({"p50": None, "p99": 9}, ((3, 9.0),)),
        (None, ()),
        (True, ()),
        pytest.param(10**400, ((0, math.inf),), id="beyond-a-double"),
        pytest.param({"p90": -(10**400)}, ((2, -math.inf),), id="below-a-double"),
    ],
)
def test_cutoffs_parse_a_number_as_p50_or_an_object_per_percentile(value: Any, parsed: Any) -> None:
    """A number is the p50 cut-off; an object's non-null percentiles are each a cut-off."""
    assert cutoffs(value) == parsed


def test_min_throughput_moves_slow_endpoints_last_keeping_them() -> None:
    """Endpoints under 300 tokens/s follow the faster ones, in their load-balanced order."""
    for seed in range(5):
        plain = tags({"model": LLAMA}, seed)
        body = {"model": LLAMA, "provider": {"preferred_min_throughput": 300}}
        fast = {"groq", "cerebras", "sambanova"}
        expected = [t for t in plain if t in fast] + [t for t in plain if t not in fast]
        assert tags(body, seed) == expected


def test_max_latency_per_percentile() -> None:
    """A number is the p50 cut-off; an object checks each percentile it gives: SambaNova's p50
    is 0.3 s but its p99 (three times the p50 in the catalog) is 0.9 s."""
    p50 = tags({"model": LLAMA, "provider": {"preferred_max_latency": 0.3}})
    assert set(p50[:3]) == {"groq", "cerebras", "sambanova"}
    tight = tags({"model": LLAMA, "provider": {"preferred_max_latency": {"p50": 0.3, "p99": 0.8}}})
    assert set(tight[:2]) == {"groq", "cerebras"}
    assert sorted(tight) == sorted(p50)  # deprioritized, never dropped


def test_partition_none_lets_a_fallback_models_endpoint_win() -> None:
    """With partition "none", Llama's Cerebras endpoint (2,200 tokens/s) goes before GPT-4o's
    endpoints, which miss 1,000 tokens/s; by default the primary's are tried first."""
    body: dict[str, Any] = {
        "model": "openai/gpt-4o",
        "models": [LLAMA],
        "provider": {"preferred_min_throughput": 1000},
    }
    assert tags(body)[:2] == ["openai", "azure"]
    body["provider"]["sort"] = {"partition": "none"}
    assert tags(body)[:3] == [LLAMA, "openai", "azure"]


def test_order_keeps_its_listed_providers_first() -> None:
    """The providers `order` lists stay first even when they miss the threshold."""
    body = {"model": LLAMA, "provider": {"order": ["together"], "preferred_min_throughput": 1000}}
    assert tags(body)[:2] == ["together/fp8", "cerebras"]


def test_openai_sdk_served_by_the_fallback_model(live: EmulatorServer) -> None:
    """Through the openai SDK: partition none and a throughput threshold serve from Llama."""
    live.reset()
    with OpenAI(base_url=live.base_url, api_key="sk-test", max_retries=0) as client:
        reply = client.chat.completions.create(
            model="openai/gpt-4o",
            messages=USER,
            extra_body={
                "models": [LLAMA],
                "provider": {"preferred_min_throughput": 1000, "sort": {"partition": "none"}},
            },
        )
    assert reply.model == LLAMA
    assert reply.model_extra is not None and reply.model_extra["provider"] == "Cerebras"


def test_openrouter_sdk_latency_preference(live: EmulatorServer) -> None:
    """Through the router's SDK: a latency preference object picks a low-latency endpoint."""
    live.reset()
    with OpenRouter(api_key="sk-test", server_url=live.url + "/api/v1") as sdk:
        reply = sdk.chat.send(
            model=LLAMA,
            messages=USER,
            provider={"preferred_max_latency": {"p50": 0.2}, "allow_fallbacks": False},
        )
    assert reply.model == LLAMA
    assert live.last_request.completion is not None
    assert live.last_request.completion["provider"] in ("Groq", "Cerebras")


def test_a_cutoff_beyond_a_double_is_served_not_a_500(live: EmulatorServer) -> None:
    """An integer too large for a double (valid JSON) is a cut-off no endpoint meets: served
    (before: float() overflowed, a 500)."""
    live.reset()
    with OpenAI(base_url=live.base_url, api_key="sk-test", max_retries=0) as client:
        reply = client.chat.completions.create(
            model=LLAMA,
            messages=USER,
            extra_body={
                "provider": {
                    "preferred_min_throughput": 10**400,
                    "preferred_max_latency": {"p50": 10**400},
                }
            },
        )
    assert reply.model == LLAMA
