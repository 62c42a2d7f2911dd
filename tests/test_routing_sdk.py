"""The rest of routing's cases through the SDKs a user has, against a real socket: `ignore`,
each `sort`, `order` with and without `allow_fallbacks` when the listed provider fails, the
default load balancing's determinism per seed, the `:free` limits recovering on a time-scaled
clock, and the stats and `openrouter_metadata` of a served fallback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from openai import OpenAI
from openrouter import OpenRouter
from wire import chat, request

from emulator.testing import EmulatorServer

LLAMA = "meta-llama/llama-3.3-70b-instruct"
USER = [{"role": "user", "content": "Hi"}]
GROQ_DOWN = {"name": "groq-down", "match": {"provider": "groq"}, "error": "provider_error"}


@pytest.fixture
def client(fresh: EmulatorServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=fresh.base_url, api_key="sk-test", max_retries=0) as sdk:
        yield sdk


def provider_of(reply: Any) -> str:
    assert reply.model_extra is not None
    return str(reply.model_extra["provider"])


def test_ignore_drops_the_named_providers(client: OpenAI) -> None:
    """provider.ignore leaves the one provider not named."""
    reply = client.chat.completions.create(
        model=LLAMA,
        messages=USER,
        extra_body={"provider": {"ignore": ["deepinfra", "groq", "cerebras", "sambanova"]}},
    )
    assert provider_of(reply) == "Together"


@pytest.mark.parametrize(
    ("sort", "provider"),
    [("price", "DeepInfra"), ("throughput", "Cerebras"), ("latency", "Groq")],
)
def test_each_sort_through_the_openrouter_sdk(
    fresh: EmulatorServer, sort: str, provider: str
) -> None:
    """chat.send with provider.sort serves from the cheapest, fastest or quickest endpoint."""
    with OpenRouter(api_key="sk-test", server_url=fresh.url + "/api/v1") as sdk:
        reply = sdk.chat.send(model=LLAMA, messages=USER, provider={"sort": sort})
    assert reply.model == LLAMA
    assert fresh.last_request.completion is not None
    assert fresh.last_request.completion["provider"] == provider


def test_order_with_fallbacks_moves_on_when_the_listed_provider_fails(
    fresh: EmulatorServer, client: OpenAI
) -> None:
    """order [groq] (fallbacks allowed): Groq fails, another endpoint serves; the stats list
    both attempts."""
    fresh.add(GROQ_DOWN)
    reply = client.chat.completions.create(
        model=LLAMA, messages=USER, extra_body={"provider": {"order": ["groq"]}}
    )
    assert provider_of(reply) != "Groq"
    path = f"/api/v1/generation?id={reply.id}"
    attempts = request(fresh.url, method="GET", path=path).json()["data"]["provider_responses"]
    assert [a["status"] for a in attempts] == [502, 200]
    assert attempts[0]["provider_name"] == "Groq"


def test_order_without_fallbacks_returns_the_providers_error(
    fresh: EmulatorServer, client: OpenAI
) -> None:
    """order [groq] with allow_fallbacks false: Groq's error reaches the client."""
    fresh.add(GROQ_DOWN)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(
            model=LLAMA,
            messages=USER,
            extra_body={"provider": {"order": ["groq"], "allow_fallbacks": False}},
        )
    assert caught.value.status_code == 502
    assert [e.status for e in fresh.requests] == [502]


def served_providers(server: EmulatorServer, count: int = 12) -> list[str]:
    found = []
    for i in range(count):
        body = {"model": LLAMA, "messages": [{"role": "user", "content": f"question {i}"}]}
        found.append(request(server.url, body=body).json()["provider"])
    return found


def test_default_load_balancing_is_the_same_for_a_seed(
    make_server: Callable[..., EmulatorServer],
) -> None:
    """Two servers with one seed serve the same requests from the same providers; another
    seed spreads them differently."""
    first = served_providers(make_server(seed=7))
    again = served_providers(make_server(seed=7))
    other = served_providers(make_server(seed=8))
    assert first == again
    assert len(set(first)) > 1  # weighted, not always the cheapest
    assert other != first


def check_fallback_metadata(meta: dict[str, Any], provider: str) -> None:
    """What a served two-model chain's openrouter_metadata says (spec schema
    OpenRouterMetadata)."""
    assert (meta["requested"], meta["strategy"], meta["attempt"]) == (
        "openai/gpt-4o",
        "fallback",
        2,
    )
    assert [(a["model"], a["status"]) for a in meta["attempts"]] == [
        ("openai/gpt-4o", 529),
        (LLAMA, 200),
    ]
    selected = [e["provider"] for e in meta["endpoints"]["available"] if e["selected"]]
    assert selected == [provider]


def test_served_fallback_stats_and_metadata(fresh: EmulatorServer, client: OpenAI) -> None:
    """A chain whose first model fails, through both SDKs with the metadata opt-in: the reply's
    openrouter_metadata says fallback, attempt 2, both attempts and the selected endpoint; the
    stats list both provider responses."""
    fresh.add({"name": "gpt-down", "match": {"model": "openai/gpt-4o"}, "error": "overloaded"})
    reply = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=USER,
        extra_body={"models": [LLAMA]},
        extra_headers={"X-OpenRouter-Metadata": "enabled"},
    )
    assert reply.model == LLAMA and reply.model_extra is not None
    check_fallback_metadata(reply.model_extra["openrouter_metadata"], provider_of(reply))
    path = f"/api/v1/generation?id={reply.id}"
    stats = request(fresh.url, method="GET", path=path).json()["data"]
    assert [r["status"] for r in stats["provider_responses"]] == [529, 200]
    assert stats["model"] == LLAMA
    with OpenRouter(api_key="sk-test", server_url=fresh.url + "/api/v1") as sdk:
        sent = sdk.chat.send(
            model="openai/gpt-4o",
            models=[LLAMA],
            messages=USER,
            x_open_router_metadata="enabled",
        )
    assert sent.openrouter_metadata is not None
    served = fresh.last_request.completion
    assert served is not None
    check_fallback_metadata(sent.openrouter_metadata.model_dump(by_alias=True), served["provider"])


def test_free_limits_recover_on_a_time_scaled_clock(
    make_server: Callable[..., EmulatorServer],
) -> None:
    """At a time scale of 0.01 the free variant's minute is 0.6 s: requests reach the 429
    (Retry-After within the minute, X-RateLimit-Limit 20), then are served once it passes."""
    server = make_server(time_scale=0.01)
    statuses: list[int] = []
    refused = None
    for _ in range(100):  # a window may end between two requests: go until one is refused
        answer = chat(server.url, model="openai/gpt-oss-20b:free")
        statuses.append(answer.status)
        if answer.status == 429:
            refused = answer
            break
    assert refused is not None, statuses
    assert refused.headers["x-ratelimit-limit"] == "20"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    retry_after = int(refused.headers["retry-after"])  # emulator seconds left in the minute
    assert retry_after >= 1
    assert retry_after <= 60
    time.sleep(0.7)  # more than a whole window (60 s x 0.01) on the emulator's clock
    assert chat(server.url, model="openai/gpt-oss-20b:free").status == 200
