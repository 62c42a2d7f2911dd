"""The router's official Python SDK (`openrouter`, generated from its OpenAPI spec, validating
every response) against the emulator on a real socket: chat.send as JSON, as a stream, with a
tool call, with structured output, asynchronously; its error class for each scripted status and
the typed error of an in-band stream error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from openrouter import OpenRouter, errors
from openrouter.components import ChatStreamChunk
from openrouter.utils import RetryConfig

from emulator.testing import EmulatorServer

MODEL = "openai/gpt-4o"
USER = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


@pytest.fixture
def client(server: EmulatorServer) -> Iterator[OpenRouter]:
    """The SDK pointed at the emulator's /api/v1, without retries (each test sees one answer)."""
    with OpenRouter(
        api_key="sk-or-test",
        server_url=server.url + "/api/v1",
        retry_config=RetryConfig("none", None, False),
    ) as sdk:
        yield sdk


def test_send_json(client: OpenRouter) -> None:
    """chat.send returns a validated ChatResult with text, finish reason and full usage."""
    result = client.chat.send(model=MODEL, messages=USER)
    choice = result.choices[0]
    assert isinstance(choice.message.content, str) and choice.message.content
    assert choice.finish_reason == "stop"
    assert result.system_fingerprint is None
    assert result.usage is not None and result.usage.is_byok is False
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert result.usage.cost_details is not None


def test_send_stream(client: OpenRouter, server: EmulatorServer) -> None:
    """A stream arrives as ChatStreamChunk objects spelling the scripted text, usage last."""
    server.add({"name": "hello", "reply": {"content": "Hello from the emulator."}})
    chunks = list(client.chat.send(model=MODEL, messages=USER, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the emulator."
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_tool_call(client: OpenRouter) -> None:
    """tool_choice required gives a tool call whose arguments satisfy the tool's schema."""
    result = client.chat.send(
        model=MODEL, messages=USER, tools=[WEATHER_TOOL], tool_choice="required"
    )
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)


def test_structured_output(client: OpenRouter) -> None:
    """A json_schema response_format gets content that parses and fits the schema."""
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "celsius": {"type": "integer"}},
        "required": ["city", "celsius"],
        "additionalProperties": False,
    }
    result = client.chat.send(
        model=MODEL,
        messages=USER,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "weather", "strict": True, "schema": schema},
        },
    )
    content = result.choices[0].message.content
    assert isinstance(content, str)
    value = json.loads(content)
    assert set(value) == {"city", "celsius"} and isinstance(value["celsius"], int)


def test_send_async(server: EmulatorServer) -> None:
    """chat.send_async returns the same validated result."""
    server.add({"name": "hello", "reply": {"content": "Async hello."}})

    async def send() -> str | None:
        async with OpenRouter(api_key="sk-or-test", server_url=server.url + "/api/v1") as sdk:
            result = await sdk.chat.send_async(model=MODEL, messages=USER)
        content = result.choices[0].message.content
        return content if isinstance(content, str) else None

    assert asyncio.run(send()) == "Async hello."


STATUS_ERRORS = [
    (400, errors.BadRequestResponseError, "invalid_request"),
    (401, errors.UnauthorizedResponseError, "authentication"),
    (402, errors.PaymentRequiredResponseError, "payment_required"),
    (403, errors.ForbiddenResponseError, "permission_denied"),
    (404, errors.NotFoundResponseError, "not_found"),
    (408, errors.RequestTimeoutResponseError, "timeout"),
    (413, errors.PayloadTooLargeResponseError, "payload_too_large"),
    (429, errors.TooManyRequestsResponseError, "rate_limit_exceeded"),
    (500, errors.InternalServerResponseError, "server"),
    (502, errors.BadGatewayResponseError, "provider_unavailable"),
    (503, errors.ServiceUnavailableResponseError, "provider_overloaded"),
]


@pytest.mark.parametrize(("status", "cls", "error_type"), STATUS_ERRORS)
def test_status_raises_the_sdk_error_class(
    client: OpenRouter, server: EmulatorServer, status: int, cls: type[Exception], error_type: str
) -> None:
    """Each scripted status raises the SDK's own class for it, with the envelope parsed."""
    server.add({"name": "fail", "error": {"status": status, "message": f"scripted {status}"}})
    with pytest.raises(cls) as caught:
        client.chat.send(model=MODEL, messages=USER)
    data = caught.value.data  # type: ignore[attr-defined]
    assert data.error.code == status and data.error.message == f"scripted {status}"
    assert data.error.metadata == {"error_type": error_type}


def test_in_band_stream_error(client: OpenRouter, server: EmulatorServer) -> None:
    """A mid-stream error arrives as the chunk's typed `error` (code, message, error_type)."""
    server.add(
        {
            "name": "dies",
            "reply": {
                "content": "a b c d",
                "stream": {"error_after": 2, "error": "provider_error"},
            },
        }
    )
    chunks: list[ChatStreamChunk] = list(client.chat.send(model=MODEL, messages=USER, stream=True))
    last = chunks[-1]
    assert last.error is not None
    assert (last.error.code, last.error.message) == (502, "Provider returned error")
    assert last.error.metadata is not None
    assert (last.error.metadata.error_type, last.error.metadata.provider_code) == (
        "provider_unavailable",
        "INTERNAL",
    )
    assert last.choices[0].finish_reason == "error"
    assert "".join(c.choices[0].delta.content or "" for c in chunks[:-1]) == "a b"


def test_reasoning_logprobs_and_router_metadata_parse(client: OpenRouter) -> None:
    """The SDK parses generated reasoning_details, logprobs and openrouter_metadata."""
    result = client.chat.send(
        model="deepseek/deepseek-r1",
        messages=USER,
        reasoning={"effort": "high"},
        logprobs=True,
        top_logprobs=2,
        x_open_router_metadata="enabled",
    )
    message = result.choices[0].message
    assert message.reasoning and message.reasoning_details
    assert result.choices[0].logprobs is not None and result.choices[0].logprobs.content
    assert result.openrouter_metadata is not None
    assert result.openrouter_metadata.requested == "deepseek/deepseek-r1"
    assert result.usage is not None and result.usage.completion_tokens_details is not None
    assert result.usage.completion_tokens_details.reasoning_tokens
