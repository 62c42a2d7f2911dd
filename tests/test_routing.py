"""Routing over HTTP, through the openai SDK and the router's openrouter SDK: model fallbacks
(JSON and stream), terminal errors, provider fallback, provider preferences ending in the 404,
the strict catalog, and the free-variant rate limits recovering after their window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from conftest import FIXED_TIME
from openai import OpenAI
from openrouter import OpenRouter
from wire import chat, request

from emulator.testing import EmulatorServer

CHAIN = ["openai/gpt-4o", "anthropic/claude-sonnet-4.5", "google/gemini-2.5-flash"]
FAILING = [
    {"name": "a-down", "match": {"model": CHAIN[0]}, "error": "service_unavailable"},
    {"name": "b-limited", "match": {"model": CHAIN[1]}, "error": "rate_limited_upstream"},
]
USER = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def client(fresh: EmulatorServer) -> OpenAI:
    """An openai client that does not retry (so each error is seen once)."""
    return OpenAI(base_url=fresh.base_url, api_key="sk-test", max_retries=0)


def stats(server: EmulatorServer, generation_id: str) -> dict[str, Any]:
    path = f"/api/v1/generation?id={generation_id}"
    data: dict[str, Any] = request(server.url, method="GET", path=path).json()["data"]
    return data


def test_three_model_chain_falls_back_to_the_model_that_serves(
    fresh: EmulatorServer, client: OpenAI
) -> None:
    """The first two models fail with different errors; the third serves and is reported."""
    fresh.add(*FAILING)
    reply = client.chat.completions.create(
        model=CHAIN[0], messages=USER, extra_body={"models": CHAIN[1:]}
    )
    assert reply.model == CHAIN[2]
    assert reply.model_extra is not None and reply.model_extra["provider"] == "Google"
    attempts = stats(fresh, reply.id)["provider_responses"]
    assert [(a["status"], a["model_permaslug"]) for a in attempts] == [
        (503, CHAIN[0]),
        (429, CHAIN[1]),
        (200, CHAIN[2]),
    ]


def test_three_model_chain_streams_from_the_model_that_serves(
    fresh: EmulatorServer, client: OpenAI
) -> None:
    """The same chain, streamed: every chunk names the serving model."""
    fresh.add(*FAILING)
    stream = client.chat.completions.create(
        model=CHAIN[0], messages=USER, stream=True, extra_body={"models": CHAIN[1:]}
    )
    models = {chunk.model for chunk in stream}
    assert models == {CHAIN[2]}


def test_all_candidates_failing_returns_the_last_error(
    fresh: EmulatorServer, client: OpenAI
) -> None:
    """When every model fails, the last model's error reaches the client."""
    fresh.add(
        *FAILING, {"name": "c-broken", "match": {"model": CHAIN[2]}, "error": "provider_error"}
    )
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(
            model=CHAIN[0], messages=USER, extra_body={"models": CHAIN[1:]}
        )
    assert caught.value.status_code == 502


def test_a_terminal_error_does_not_fall_back(fresh: EmulatorServer, client: OpenAI) -> None:
    """`terminal: true` on a scenario's error stops the fallbacks."""
    fresh.add(
        {
            "name": "fatal",
            "match": {"model": CHAIN[0]},
            "error": {"preset": "bad_request", "terminal": True},
        }
    )
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model=CHAIN[0], messages=USER, extra_body={"models": CHAIN[1:]}
        )
    assert [e.scenario for e in fresh.requests] == ["fatal"]


def test_a_failing_provider_falls_back_to_the_next_endpoint(
    fresh: EmulatorServer, client: OpenAI
) -> None:
    """A scenario failing one provider sends the attempt to the model's next endpoint."""
    fresh.add({"name": "openai-down", "match": {"provider": "openai"}, "error": "provider_error"})
    reply = client.chat.completions.create(model="openai/gpt-4o", messages=USER)
    assert reply.model_extra is not None and reply.model_extra["provider"] == "Azure"
    attempts = stats(fresh, reply.id)["provider_responses"]
    assert [(a["status"], a["endpoint_id"]) for a in attempts] == [(502, "openai"), (200, "azure")]


def test_matching_on_the_attempt_number(fresh: EmulatorServer, client: OpenAI) -> None:
    """`attempt: 1` fails only the first try; the second attempt gets the default reply."""
    fresh.add({"name": "first-fails", "match": {"attempt": 1}, "error": "service_unavailable"})
    reply = client.chat.completions.create(model="anthropic/claude-sonnet-4.5", messages=USER)
    assert stats(fresh, reply.id)["provider_responses"][1]["status"] == 200


def test_provider_order_without_fallbacks_and_only_leaving_nothing(client: OpenAI) -> None:
    """order with allow_fallbacks false serves from the listed provider; `only` with no
    provider left is the router's 404, its availability naming the constraint."""
    reply = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=USER,
        extra_body={"provider": {"order": ["azure"], "allow_fallbacks": False}},
    )
    assert reply.model_extra is not None and reply.model_extra["provider"] == "Azure"
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(
            model="openai/gpt-4o", messages=USER, extra_body={"provider": {"only": ["groq"]}}
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["message"].startswith("No allowed providers are available for the selected model.")
    assert error["availability"]["code"] == "constraint_filtered"


def test_max_price_and_sort_choose_the_provider(client: OpenAI) -> None:
    """max_price keeps the cheap endpoints; sort by throughput picks the fastest."""
    cheap = client.chat.completions.create(
        model="meta-llama/llama-3.3-70b-instruct",
        messages=USER,
        extra_body={"provider": {"max_price": {"prompt": 0.2, "completion": 0.4}}},
    )
    assert cheap.model_extra is not None and cheap.model_extra["provider"] == "DeepInfra"
    fast = client.chat.completions.create(
        model="meta-llama/llama-3.3-70b-instruct",
        messages=USER,
        extra_body={"provider": {"sort": "throughput"}},
    )
    assert fast.model_extra is not None and fast.model_extra["provider"] == "Cerebras"


@pytest.mark.parametrize("price", ["abc", "NaN", "sNaN", "1,5", ""])
def test_max_price_that_is_not_a_price_is_a_400_naming_it(client: OpenAI, price: str) -> None:
    """A max_price string that is not a decimal number is a 400 naming the field (it was
    silently ignored, so the request was served at any price)."""
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="meta-llama/llama-3.3-70b-instruct",
            messages=USER,
            extra_body={"provider": {"max_price": {"prompt": price}}},
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert "provider.max_price.prompt" in error["message"]
    assert "must be a price in USD" in error["message"]


def test_max_price_as_a_decimal_string_filters_like_a_number(client: OpenAI) -> None:
    """The spec types max_price's fields as strings: " 0.2 " and "2e-1" work as 0.2 does."""
    for price in (" 0.2 ", "2e-1", "0.20"):
        cheap = client.chat.completions.create(
            model="meta-llama/llama-3.3-70b-instruct",
            messages=USER,
            extra_body={"provider": {"max_price": {"prompt": price, "completion": "0.4"}}},
        )
        assert cheap.model_extra is not None and cheap.model_extra["provider"] == "DeepInfra"


def test_cost_follows_the_serving_endpoint(fresh: EmulatorServer) -> None:
    """The generation's cost is the serving endpoint's prices times the tokens."""
    body = {
        "model": "meta-llama/llama-3.3-70b-instruct",
        "messages": USER,
        "provider": {"only": ["groq"]},
    }
    reply = request(fresh.url, body=body).json()
    usage = reply["usage"]
    expected = usage["prompt_tokens"] * 0.59e-6 + usage["completion_tokens"] * 0.79e-6
    assert usage["cost"] == pytest.approx(expected, rel=1e-9)  # Groq's prices, not the list's
    assert stats(fresh, reply["id"])["total_cost"] == pytest.approx(expected, rel=1e-9)


def test_strict_catalog_refuses_unknown_models(fresh: EmulatorServer, client: OpenAI) -> None:
    """With catalog_strict, a model the catalog lacks is the 400 model_not_found error."""
    fresh.configure(catalog_strict=True)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="acme/nothing", messages=USER)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["availability"]["code"] == "model_not_found"


def test_free_variant_limits_and_recovery(make_server: Callable[..., EmulatorServer]) -> None:
    """The 21st :free request in a minute is the router's 429 with Retry-After and
    X-RateLimit-*; once the emulator's clock passes the window, requests are served again."""
    server = make_server(time_scale=0)  # the clock starts at the fixed time, a minute's start
    statuses = [chat(server.url, model="openai/gpt-oss-20b:free").status for _ in range(20)]
    refused = chat(server.url, model="openai/gpt-oss-20b:free")
    assert statuses == [200] * 20
    assert refused.status == 429, refused.body
    assert refused.json()["error"]["message"] == "Rate limit exceeded: free-models-per-min."
    assert refused.headers["x-ratelimit-limit"] == "20"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-ratelimit-reset"] == str((FIXED_TIME + 60) * 1000)
    assert refused.headers["retry-after"] == "60"  # the clock stands at the window's start
    assert chat(server.url, model="anthropic/claude-haiku-4.5").status == 200  # not a free model
    server.advance_clock(60)
    assert chat(server.url, model="openai/gpt-oss-20b:free").status == 200


def test_key_request_quota(fresh: EmulatorServer) -> None:
    """rpm caps a key's requests per minute; /key stays answerable."""
    fresh.configure(rpm=2)
    assert [chat(fresh.url).status for _ in range(3)] == [200, 200, 429]
    assert request(fresh.url, method="GET", path="/api/v1/key").status == 200


def test_openrouter_sdk_fallback_and_provider(fresh: EmulatorServer) -> None:
    """chat.send with models[] and provider preferences through the router's own SDK."""
    fresh.add(*FAILING)
    with OpenRouter(api_key="sk-test", server_url=fresh.url + "/api/v1") as sdk:
        reply = sdk.chat.send(model=CHAIN[0], models=CHAIN[1:], messages=USER)
        assert reply.model == CHAIN[2]
        pinned = sdk.chat.send(
            model="meta-llama/llama-3.3-70b-instruct",
            messages=USER,
            provider={"order": ["groq"], "allow_fallbacks": False},
        )
        assert pinned.model == "meta-llama/llama-3.3-70b-instruct"
    assert fresh.last_request.completion is not None
    assert fresh.last_request.completion["provider"] == "Groq"


def test_openrouter_metadata_on_routing_errors(fresh: EmulatorServer) -> None:
    """With X-OpenRouter-Metadata: enabled, the 404 of a filtered request says attempt 0 and
    nothing selected; a chain where every model failed lists its attempts beside the error."""
    opt_in = {"X-OpenRouter-Metadata": "enabled"}
    body = {"model": "openai/gpt-4o-mini", "messages": USER, "provider": {"only": ["groq"]}}
    filtered = request(fresh.url, body=body, headers=opt_in).json()
    meta = filtered["openrouter_metadata"]
    assert (meta["requested"], meta["strategy"], meta["attempt"]) == (
        "openai/gpt-4o-mini",
        "direct",
        0,
    )
    assert meta["endpoints"]["total"] == 2
    assert not any(e["selected"] for e in meta["endpoints"]["available"])
    fresh.add(*FAILING)
    body = {"model": CHAIN[0], "models": [CHAIN[1]], "messages": USER}
    failed = request(fresh.url, body=body, headers=opt_in)
    assert failed.status == 429
    assert "openrouter_metadata" not in failed.json()  # never on rate-limit failures
    fresh.add(
        {
            "name": "b-down",
            "match": {"model": CHAIN[1]},
            "priority": 10,
            "error": "service_unavailable",
        }
    )
    failed = request(fresh.url, body=body, headers=opt_in).json()
    meta = failed["openrouter_metadata"]
    assert (meta["strategy"], meta["attempt"]) == ("fallback", 0)
    assert [(a["model"], a["status"]) for a in meta["attempts"]] == [
        (CHAIN[0], 503),
        (CHAIN[1], 503),
    ]
    assert "openrouter_metadata" not in request(fresh.url, body=body).json()  # opt-in only
