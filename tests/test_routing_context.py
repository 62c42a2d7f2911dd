"""Context windows in routing: endpoints that cannot hold the prompt plus the requested output
(or whose max_completion_tokens is below it) are dropped; a catalog model left with none fails
with the router's 400 context_length_exceeded and the next model serves; compression and
unknown models are never refused. As plain data, and through the openai and openrouter SDKs."""

from __future__ import annotations

import random
from typing import Any

import openai
import pytest
from openai import OpenAI
from openrouter import OpenRouter, errors
from wire import request

from emulator.catalogfile import builtin_catalog
from emulator.contextfit import PromptSize, prompt_size
from emulator.routing import plan_route
from emulator.testing import EmulatorServer

USER = [{"role": "user", "content": "Hi"}]
# Two endpoints of a small model: a 1,000-token window and a 4,000-token one.
SMALL = {
    "models": [
        {
            "id": "acme/small",
            "context_length": 4000,
            "endpoints": [
                {"provider": "Alpha", "context_length": 1000, "max_completion_tokens": 500},
                {"provider": "Beta", "context_length": 4000, "max_completion_tokens": 2000},
            ],
        }
    ]
}
LONG = "word " * 2000  # about 2,000 tokens


def never_counted() -> tuple[int, int]:
    raise AssertionError("the prompt was counted though its size could not reach any window")


def size(body: dict[str, Any], count: tuple[int, int] = (0, 0), bound: int = 100) -> PromptSize:
    return prompt_size(body, bound, lambda: count)


def providers(body: dict[str, Any], prompt: PromptSize) -> list[tuple[str, str, int | None]]:
    plan = plan_route(body, builtin_catalog(), random.Random(0), size=prompt)
    return [
        (a.model, a.endpoint.tag, a.refusal.status if a.refusal else None) for a in plan.attempts
    ]


def test_a_small_prompt_is_never_counted() -> None:
    """A body whose bytes cannot reach any window is routed without counting its tokens."""
    body = {"model": "openai/gpt-4o", "messages": USER, "max_tokens": 100}
    prompt = prompt_size(body, 2000, never_counted)
    assert providers(body, prompt) == [
        ("openai/gpt-4o", "openai", None),
        ("openai/gpt-4o", "azure", None),
    ]


def test_max_tokens_above_every_endpoints_limit_refuses_the_model() -> None:
    """max_tokens over gpt-4o's 16,384 completion tokens: one refusal attempt for the model, then
    the fallback model's endpoints."""
    body = {"model": "openai/gpt-4o", "models": ["openai/gpt-4.1"], "max_tokens": 20000}
    assert providers(body, size(body)) == [
        ("openai/gpt-4o", "openai", 400),
        ("openai/gpt-4.1", "openai", None),
        ("openai/gpt-4.1", "azure", None),
    ]


def test_endpoints_too_small_are_dropped_and_the_rest_kept() -> None:
    """Groq's 8,192 completion tokens cannot give 10,000; Maverick's other endpoints can."""
    body = {"model": "meta-llama/llama-4-maverick", "max_completion_tokens": 10000}
    tags = [tag for _, tag, _ in providers(body, size(body))]
    assert "groq" not in tags
    assert sorted(tags) == ["deepinfra/fp8", "together/fp8"]


def test_the_prompt_counts_against_the_window() -> None:
    """A 130,000-token prompt overflows gpt-4o's 128,000 but fits gpt-4.1's million."""
    body = {"model": "openai/gpt-4o", "models": ["openai/gpt-4.1"]}
    prompt = size(body, (129_000, 1_000), bound=10**7)
    assert [r for _, _, r in providers(body, prompt)] == [400, None, None]
    refusal = plan_route(body, builtin_catalog(), random.Random(0), size=prompt).attempts[0]
    assert refusal.refusal is not None
    assert refusal.refusal.message == (
        "This endpoint's maximum context length is 128000 tokens. However, you requested about "
        "130000 tokens (129000 of text input, 1000 of tool input, 0 in the output). Please "
        "reduce the length of either one, or use the context-compression plugin to compress "
        "your prompt automatically."
    )
    assert refusal.refusal.metadata == {
        "error_type": "context_length_exceeded",
        "provider_name": None,
    }


@pytest.mark.parametrize(
    "extra",
    [{"plugins": [{"id": "context-compression"}]}, {"transforms": ["middle-out"]}],
    ids=["plugin", "transform"],
)
def test_compression_lets_a_long_prompt_through(extra: dict[str, Any]) -> None:
    """With context compression asked for, only the output is checked against the window."""
    body = {"model": "openai/gpt-4o", **extra}
    assert [r for _, _, r in providers(body, size(body, (500_000, 0), 10**7))] == [None, None]


def test_unknown_models_are_never_refused() -> None:
    """A model the catalog lacks (served with defaults) takes any prompt and max_tokens."""
    body = {"model": "acme/not-in-the-catalog", "max_tokens": 10**6}
    assert [r for _, _, r in providers(body, size(body, (10**6, 0), 10**8))] == [None]


def test_order_without_fallbacks_naming_a_small_endpoint_is_the_400() -> None:
    """provider.order with allow_fallbacks false names only an endpoint too small: the model's
    context error, not the 404 of a provider left out."""
    body = {
        "model": "meta-llama/llama-4-maverick",
        "max_tokens": 10000,
        "provider": {"order": ["groq"], "allow_fallbacks": False},
    }
    assert providers(body, size(body)) == [("meta-llama/llama-4-maverick", "groq", 400)]


# --- over HTTP ----------------------------------------------------------------------------------


@pytest.fixture
def fresh(live: EmulatorServer) -> EmulatorServer:
    live.reset()
    live.add_catalog(SMALL)
    return live


def test_openai_sdk_gets_the_400_json_and_stream(fresh: EmulatorServer) -> None:
    """A prompt no endpoint of acme/small can hold is the router's 400, before any stream."""
    with OpenAI(base_url=fresh.base_url, api_key="sk-test", max_retries=0) as client:
        for stream in (False, True):
            with pytest.raises(openai.BadRequestError) as caught:
                client.chat.completions.create(
                    model="acme/small",
                    messages=[{"role": "user", "content": LONG * 2}],
                    stream=stream,
                )
            body = caught.value.body
            assert isinstance(body, dict)
            assert body["metadata"] == {
                "error_type": "context_length_exceeded",
                "provider_name": None,
            }
            assert body["message"].startswith(
                "This endpoint's maximum context length is 4000 tokens. However, you requested "
                "about 4"
            )
    assert [e.status for e in fresh.requests] == [400, 400]


def test_the_endpoint_that_fits_serves(fresh: EmulatorServer) -> None:
    """A 2,000-token prompt skips Alpha's 1,000-token window: Beta serves, and is the only
    attempt in the generation stats."""
    with OpenAI(base_url=fresh.base_url, api_key="sk-test", max_retries=0) as client:
        reply = client.chat.completions.create(
            model="acme/small", messages=[{"role": "user", "content": LONG}]
        )
    assert reply.model_extra is not None and reply.model_extra["provider"] == "Beta"
    stats = request(fresh.url, method="GET", path=f"/api/v1/generation?id={reply.id}").json()
    assert [a["provider_name"] for a in stats["data"]["provider_responses"]] == ["Beta"]


def test_a_refused_model_falls_back_to_the_next(fresh: EmulatorServer) -> None:
    """models[]: acme/small cannot hold the prompt, openai/gpt-4o serves it; the opt-in
    metadata lists only the attempt a provider took."""
    body = {
        "model": "acme/small",
        "models": ["openai/gpt-4o"],
        "messages": [{"role": "user", "content": LONG * 2}],
    }
    reply = request(fresh.url, body=body, headers={"X-OpenRouter-Metadata": "enabled"}).json()
    assert reply["model"] == "openai/gpt-4o"
    meta = reply["openrouter_metadata"]
    assert meta["strategy"] == "fallback"
    assert [(a["model"], a["status"]) for a in meta["attempts"]] == [("openai/gpt-4o", 200)]


def test_openrouter_sdk_raises_its_bad_request_error(fresh: EmulatorServer) -> None:
    """The router's own SDK sees the 400 with the router's message for a max_tokens too large."""
    with OpenRouter(api_key="sk-test", server_url=fresh.url + "/api/v1") as sdk:
        with pytest.raises(errors.BadRequestResponseError) as caught:
            sdk.chat.send(model="acme/small", messages=USER, max_tokens=3000)
    assert caught.value.data.error.message == (
        "This endpoint's maximum completion length is 2000 tokens. However, you requested "
        "3000 tokens in the output. Please reduce max_tokens (or max_completion_tokens)."
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"messages": [{"role": "user", "content": "hi " * 80}]},
            "This endpoint's maximum prompt length is 60 tokens. However, you requested about "
            "88 tokens of input (88 of text input, 0 of tool input). Please reduce the length "
            "of the messages, or use the context-compression plugin",
        ),
        (
            {"max_tokens": 300, "plugins": [{"id": "context-compression"}]},
            "This endpoint's maximum context length is 300 tokens. However, you requested 300 "
            "tokens in the output, which leaves no room for the compressed prompt. Please "
            "reduce max_tokens (or max_completion_tokens).",
        ),
    ],
    ids=["max-prompt-tokens", "compressed"],
)
def test_the_400_names_the_limit_that_refused(
    live: EmulatorServer, extra: dict[str, Any], message: str
) -> None:
    """A prompt over max_prompt_tokens names that limit (before: 'maximum context length is 1000
    tokens. However, you requested about 88 tokens', which fits), and an output filling the
    window with compression on does not advise compression."""
    live.reset()
    live.add_catalog(
        {
            "models": [
                {
                    "id": "acme/short-prompt",
                    "context_length": 300,
                    "endpoints": [
                        {"provider": "Acme", "context_length": 300, "max_prompt_tokens": 60}
                    ],
                }
            ]
        }
    )
    with OpenAI(base_url=live.base_url, api_key="sk-test", max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(
                model="acme/short-prompt",
                messages=extra.get("messages", USER),
                extra_body={k: v for k, v in extra.items() if k != "messages"},
            )
    assert refused.value.body["message"].startswith(message)  # type: ignore[index]
