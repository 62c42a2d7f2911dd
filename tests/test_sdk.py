"""The built-in default reply through the official openai SDK (sync and async) on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from emulator import tokens
from emulator.testing import EmulatorServer

USER = [{"role": "user", "content": "What is the meaning of life?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


@pytest.fixture
def client(server: EmulatorServer) -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)


@pytest.fixture
async def aclient(server: EmulatorServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(
        base_url=server.base_url, api_key=server.api_key, max_retries=0
    ) as client:
        yield client


def test_non_streaming_reply(client: OpenAI) -> None:
    """A plain request gets a plausible reply with the router's fields and exact usage."""
    completion = client.chat.completions.create(model="anthropic/claude-3.5-sonnet", messages=USER)
    choice = completion.choices[0]
    assert completion.id.startswith("gen-1735689600-")
    assert completion.object == "chat.completion"
    assert completion.model == "anthropic/claude-3.5-sonnet"
    assert completion.model_extra is not None and completion.model_extra["provider"] == "Anthropic"
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason == "stop"
    assert (
        choice.model_extra is not None and choice.model_extra["native_finish_reason"] == "end_turn"
    )
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 14
    assert completion.usage.completion_tokens == tokens.count(choice.message.content)
    assert completion.usage.total_tokens == 14 + completion.usage.completion_tokens


def test_streaming_matches_non_streaming(client: OpenAI) -> None:
    """The streamed form of a request carries the same text and usage as the JSON form."""
    whole = client.chat.completions.create(model="openai/gpt-4o", messages=USER)
    stream = client.chat.completions.create(model="openai/gpt-4o", messages=USER, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert next(c.choices[0].delta.role for c in chunks if c.choices) == "assistant"
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage


def test_stream_helper_rebuilds_the_message(client: OpenAI) -> None:
    """chat.completions.stream() accumulates role and content exactly once."""
    with client.chat.completions.stream(model="openai/gpt-4o", messages=USER) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.role == "assistant"
    assert message.content == "".join(deltas)
    assert final.choices[0].finish_reason == "stop"


def test_stream_helper_rebuilds_forced_tool_call(client: OpenAI) -> None:
    """A forced tool call streams with index/id/name once; the helper parses valid arguments."""
    with client.chat.completions.stream(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    ) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.id.startswith("call_") and len(call.id) == 29
    assert call.function.name == "get_weather"
    assert call.function.parsed_arguments is None  # not a strict tool: the helper leaves it
    import json

    arguments = json.loads(call.function.arguments)
    assert set(arguments) == {"city", "unit"} and arguments["unit"] in ("c", "f")
    assert final.choices[0].finish_reason == "tool_calls"


def test_max_tokens_truncates_with_length(client: OpenAI) -> None:
    """max_tokens cuts the reply to that many tokens and finish_reason says length."""
    completion = client.chat.completions.create(model="openai/gpt-4o", messages=USER, max_tokens=3)
    content = completion.choices[0].message.content or ""
    assert completion.choices[0].finish_reason == "length"
    assert 0 < tokens.count(content) <= 3
    assert completion.usage is not None and completion.usage.completion_tokens == tokens.count(
        content
    )


def test_stop_sequence_cuts_before_it(client: OpenAI) -> None:
    """A stop sequence that occurs in the reply ends it right before the sequence."""
    full = (
        client.chat.completions.create(model="openai/gpt-4o", messages=USER)
        .choices[0]
        .message.content
    )
    assert full is not None
    stop = full.split(" ")[2]
    cut = client.chat.completions.create(model="openai/gpt-4o", messages=USER, stop=[stop])
    assert cut.choices[0].message.content == full[: full.index(stop)]
    assert cut.choices[0].finish_reason == "stop"


def test_prefill_is_continued(client: OpenAI) -> None:
    """A last assistant message is continued, not repeated."""
    messages = [*USER, {"role": "assistant", "content": "Paris is"}]
    completion = client.chat.completions.create(model="openai/gpt-4o", messages=messages)  # type: ignore[arg-type]
    content = completion.choices[0].message.content or ""
    assert content.startswith(" ") and not content.startswith(" Paris is")
    assert content[1].islower()


def test_n_choices(client: OpenAI) -> None:
    """n gives n choices indexed 0..n-1, each with its own text."""
    completion = client.chat.completions.create(model="openai/gpt-4o", messages=USER, n=3)
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert len({c.message.content for c in completion.choices}) == 3


def test_n_choices_streamed(client: OpenAI) -> None:
    """Streamed n choices each start with the role once and rebuild their own text."""
    whole = client.chat.completions.create(model="openai/gpt-4o", messages=USER, n=2)
    texts = {0: "", 1: ""}
    roles = {0: 0, 1: 0}
    for chunk in client.chat.completions.create(
        model="openai/gpt-4o", messages=USER, n=2, stream=True
    ):
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            roles[choice.index] += choice.delta.role == "assistant"
    assert texts == {c.index: c.message.content for c in whole.choices}
    assert roles == {0: 1, 1: 1}


def test_wrong_key_is_401(make_server: Callable[..., EmulatorServer]) -> None:
    """A key outside the accepted set raises the SDK's AuthenticationError with the router's text."""
    server = make_server(api_keys=("sk-good",))
    client = OpenAI(base_url=server.base_url, api_key="sk-bad", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match=r"User not found\.") as info:
        client.chat.completions.create(model="openai/gpt-4o", messages=USER)
    assert info.value.status_code == 401
    good = OpenAI(base_url=server.base_url, api_key="sk-good", max_retries=0)
    assert good.chat.completions.create(model="openai/gpt-4o", messages=USER).choices


def test_models_list(client: OpenAI) -> None:
    """GET /v1/models lists the built-in models in the usual list shape."""
    ids = [m.id for m in client.models.list()]
    assert "openai/gpt-4o" in ids and "anthropic/claude-sonnet-4.5" in ids


async def test_async_non_streaming(aclient: AsyncOpenAI) -> None:
    """The async client gets the same reply as the sync one would."""
    completion = await aclient.chat.completions.create(model="openai/gpt-4o", messages=USER)
    assert completion.choices[0].message.content
    assert completion.usage is not None and completion.usage.prompt_tokens == 14


async def test_async_streaming(aclient: AsyncOpenAI) -> None:
    """The async client streams role first, text deltas, then the usage chunk."""
    stream = await aclient.chat.completions.create(
        model="openai/gpt-4o", messages=USER, stream=True
    )
    chunks = [c async for c in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.choices[0].delta.role is None for c in chunks[1:] if c.choices)
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 14


async def test_async_stream_helper(aclient: AsyncOpenAI) -> None:
    """The async stream helper rebuilds the final message."""
    async with aclient.chat.completions.stream(model="openai/gpt-4o", messages=USER) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.role == "assistant"
    assert final.choices[0].message.content


def test_openrouter_usage_chunk_keeps_role_single(
    make_server: Callable[..., EmulatorServer],
) -> None:
    """With the openrouter usage chunk the stream helper still rebuilds role 'assistant' once."""
    server = make_server(usage_chunk="openrouter")
    client = OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    with client.chat.completions.stream(model="openai/gpt-4o", messages=USER, n=2) as stream:
        final = stream.get_final_completion()
    assert [c.message.role for c in final.choices] == ["assistant", "assistant"]
    assert final.usage is not None and final.usage.prompt_tokens == 14


@pytest.mark.parametrize("value", [2.0, 2])
def test_integer_valued_floats_count(server: EmulatorServer, value: float) -> None:
    """max_tokens 2.0 and n 2.0 (JSON Schema integers) act like 2."""
    from wire import chat

    body = chat(server.url, max_tokens=value, n=value).json()
    assert len(body["choices"]) == 2
    assert all(c["finish_reason"] == "length" for c in body["choices"])
    assert body["usage"]["completion_tokens"] <= 4


def test_max_tokens_covers_tool_call_arguments(client: OpenAI) -> None:
    """max_tokens cuts a forced tool call's arguments too, and says length."""
    completion = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=USER,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice="required",
        max_tokens=4,
    )
    choice = completion.choices[0]
    calls = choice.message.tool_calls or []
    assert choice.finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens <= 4
    spent = sum(tokens.count(c.function.name) + tokens.count(c.function.arguments) for c in calls)
    assert spent == completion.usage.completion_tokens
