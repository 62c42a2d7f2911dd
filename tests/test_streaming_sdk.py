"""Issue 5 at the client: the official openai SDK (3.x, on httpx2) against each streaming fault
and framing variant, loaded from YAML. What the SDK delivers before it raises is checked too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx2
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import (
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)
from rawsse import post

from emulator.testing import EmulatorServer

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
MODEL = "openai/gpt-4o"
ERROR_MESSAGE = "Provider returned error"


@pytest.fixture
def client(server: EmulatorServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=10) as c:
        yield c


@pytest.fixture
async def aclient(server: EmulatorServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(
        base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=10
    ) as c:
        yield c


def scenario(
    stream_yaml: str, reply_yaml: str = 'content: "Once upon a time there lived a fox"'
) -> str:
    block = "\n".join("    " + line for line in stream_yaml.strip().splitlines())
    return f"name: s\nreply:\n  {reply_yaml}\n  stream:\n{block}\n"


def collect(client: OpenAI, into: list[str] | None = None) -> list[ChatCompletionChunk]:
    """Stream a request; every chunk is kept, content deltas also appended to `into` as they come."""
    chunks = []
    for c in client.chat.completions.create(model=MODEL, messages=USER, stream=True):
        chunks.append(c)
        if into is not None and c.choices and c.choices[0].delta.content:
            into.append(c.choices[0].delta.content)
    return chunks


def text_of(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_comments_are_ignored(server: EmulatorServer, client: OpenAI) -> None:
    """Keep-alive comments during ttft and arbitrary comments between chunks never reach the caller."""
    server.add("""
name: s
reply:
  stream:
    events:
      - comment: "OPENROUTER PROCESSING"
      - wait_ms: 30
      - comment: "OPENROUTER PROCESSING"
      - content: "Hello"
      - comment: "OPENROUTER PROCESSING"
      - comment: "anything: at all"
      - content: " world"
      - finish: stop
      - usage: {}
      - done: true
""")
    chunks = collect(client)
    assert text_of(chunks) == "Hello world"
    assert len(chunks) == 4  # two content chunks, the finish, the usage chunk


def test_keepalive_is_ignored(server: EmulatorServer, client: OpenAI) -> None:
    """The keepalive shortcut (comments every 20 ms of a 90 ms ttft) is invisible to the SDK."""
    server.add(scenario('ttft_ms: 90\nkeepalive: {text: "OPENROUTER PROCESSING", every_ms: 20}'))
    assert text_of(collect(client)) == "Once upon a time there lived a fox"


def test_in_band_error_raises_api_error_after_content(
    server: EmulatorServer, client: OpenAI
) -> None:
    """error_after 3: the first three deltas arrive, then openai.APIError with the scenario's message."""
    server.add(
        scenario(
            f'error_after: 3\nerror: {{code: 502, message: "{ERROR_MESSAGE}", '
            'metadata: {provider_name: X, raw: "reset"}}'
        )
    )
    delivered: list[str] = []
    with pytest.raises(openai.APIError) as info:
        collect(client, delivered)
    assert type(info.value) is openai.APIError  # not a status error: the HTTP status was 200
    assert info.value.message == ERROR_MESSAGE and info.value.code == "502"  # a str in 3.x
    assert info.value.body == {
        "code": 502,
        "message": ERROR_MESSAGE,
        "metadata": {"error_type": "provider_unavailable", "provider_name": "X", "raw": "reset"},
    }
    assert delivered == ["Once", " upon", " a"]


def test_disconnect_surfaces_as_connection_error(server: EmulatorServer, client: OpenAI) -> None:
    """disconnect_after 2: two deltas arrive, then APIConnectionError caused by httpx2.RemoteProtocolError."""
    server.add(scenario("disconnect_after: 2"))
    delivered: list[str] = []
    with pytest.raises(openai.APIConnectionError) as info:
        collect(client, delivered)
    assert type(info.value) is openai.APIConnectionError
    assert type(info.value.__cause__) is httpx2.RemoteProtocolError
    assert delivered == ["Once", " upon"]


def test_stall_surfaces_as_connection_error(server: EmulatorServer, client: OpenAI) -> None:
    """stall_after: half an event, a pause, a close: the same APIConnectionError, earlier deltas kept."""
    server.add(scenario("framing: {stall_after: 3, stall_ms: 50}"))
    delivered: list[str] = []
    with pytest.raises(openai.APIConnectionError) as info:
        collect(client, delivered)
    assert type(info.value.__cause__) is httpx2.RemoteProtocolError
    assert delivered == ["Once"]


def test_stall_longer_than_read_timeout_is_a_timeout(server: EmulatorServer) -> None:
    """A stall longer than the client's read timeout: the deltas so far, then openai.APITimeoutError."""
    post(server.port)  # warm-up, so the 0.5 s timeout measures the stall, not the first request
    server.add(scenario("framing: {stall_after: 3, stall_ms: 3000}"))
    delivered: list[str] = []
    with OpenAI(
        base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=0.5
    ) as impatient:
        with pytest.raises(openai.APITimeoutError) as info:
            collect(impatient, delivered)
    assert type(info.value.__cause__) is httpx2.ReadTimeout
    assert delivered == ["Once"]


def test_malformed_raw_event_raises_json_error(server: EmulatorServer, client: OpenAI) -> None:
    """A raw event that is not JSON: the SDK raises json.JSONDecodeError after the earlier delta."""
    server.add(
        'name: s\nreply:\n  stream:\n    events: [{content: "Hi"}, {raw: "data: {not json\\n\\n"}]\n'
    )
    delivered: list[str] = []
    with pytest.raises(json.JSONDecodeError):
        collect(client, delivered)
    assert delivered == ["Hi"]


TOOLS_YAML = """\
name: s
reply:
  tool_calls:
    - {id: call_1, name: get_weather, arguments: {city: Paris, unit: c}}
    - {id: call_2, name: get_weather, arguments: {city: Rome, unit: c}}
  stream: {chunking: {chars: 3}}
"""
WEATHER: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        },
    },
}


def test_stream_helper_rebuilds_parallel_tool_calls(server: EmulatorServer, client: OpenAI) -> None:
    """chat.completions.stream() rebuilds two parallel calls (arguments in 3-char fragments) exactly."""
    server.add(TOOLS_YAML)
    with client.chat.completions.stream(model=MODEL, messages=USER, tools=[WEATHER]) as stream:
        done_args = [e.arguments for e in stream if e.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert final.choices[0].finish_reason == "tool_calls"
    assert message.role == "assistant"
    calls = [
        (c.id, c.type, c.function.name, c.function.arguments) for c in message.tool_calls or []
    ]
    assert calls == [
        ("call_1", "function", "get_weather", '{"city":"Paris","unit":"c"}'),
        ("call_2", "function", "get_weather", '{"city":"Rome","unit":"c"}'),
    ]
    assert done_args == ['{"city":"Paris","unit":"c"}', '{"city":"Rome","unit":"c"}']


FRAMINGS = {
    "split-1": "framing: {split_every: 1}",
    "split-7": "framing: {split_every: 7}",
    "crlf": 'framing: {line_ending: "\\r\\n"}',
    "cr": 'framing: {line_ending: "\\r"}',
    "crlf-split-1": 'framing: {line_ending: "\\r\\n", split_every: 1}',
}


@pytest.mark.parametrize("framing", FRAMINGS.values(), ids=FRAMINGS.keys())
def test_framing_variants_parse_identically(
    server: EmulatorServer, client: OpenAI, framing: str
) -> None:
    """Split every N bytes (cutting UTF-8) or CR/CRLF line endings: the same chunks as plain framing."""
    reply_yaml = 'content: "Once upon a time, in 北京 there lived a 🦊."'
    server.add(scenario("chunking: {chars: 4}", reply_yaml))
    plain = [c.model_dump() for c in collect(client)]
    server.reset()  # same serial number, so the same id
    server.add(scenario("chunking: {chars: 4}\n" + framing, reply_yaml))
    assert [c.model_dump() for c in collect(client)] == plain
    assert text_of(collect(client)) == "Once upon a time, in 北京 there lived a 🦊."


def test_duplicate_done_is_harmless(server: EmulatorServer, client: OpenAI) -> None:
    """duplicate_done: the SDK stops at the first [DONE]; the stream ends normally."""
    server.add(scenario("framing: {duplicate_done: true}"))
    chunks = collect(client)
    assert text_of(chunks) == "Once upon a time there lived a fox"
    assert chunks[-1].usage is not None


def test_no_done_ends_cleanly(server: EmulatorServer, client: OpenAI) -> None:
    """done: false: the stream just ends after the usage chunk; no exception."""
    server.add(scenario("done: false"))
    chunks = collect(client)
    assert text_of(chunks) == "Once upon a time there lived a fox"
    assert chunks[-1].usage is not None and chunks[-1].choices == []


def test_reasoning_arrives_before_content(server: EmulatorServer, client: OpenAI) -> None:
    """delta.reasoning (an extra field the SDK keeps) streams before any content."""
    server.add('name: s\nreply: {reasoning: "Think first.", content: "Answer."}\n')
    order = []
    for c in collect(client):
        if c.choices:
            extra = c.choices[0].delta.model_extra or {}
            if extra.get("reasoning"):
                order.append("reasoning")
            if c.choices[0].delta.content:
                order.append("content")
    assert order == ["reasoning", "reasoning", "content"]  # "Think", " first.", "Answer."


async def test_async_in_band_error_after_content(
    server: EmulatorServer, aclient: AsyncOpenAI
) -> None:
    """The async client: deltas first, then openai.APIError with the scenario's message."""
    server.add(
        scenario(
            f'chunking: {{words: 2}}\nerror_after: 2\nerror: {{code: 503, message: "{ERROR_MESSAGE}"}}'
        )
    )
    delivered: list[str] = []
    stream = await aclient.chat.completions.create(model=MODEL, messages=USER, stream=True)
    with pytest.raises(openai.APIError) as info:
        async for c in stream:
            if c.choices and c.choices[0].delta.content:
                delivered.append(c.choices[0].delta.content)
    assert type(info.value) is openai.APIError and info.value.message == ERROR_MESSAGE
    assert delivered == ["Once upon", " a time"]


async def test_async_disconnect(server: EmulatorServer, aclient: AsyncOpenAI) -> None:
    """The async client on disconnect_after: the same APIConnectionError from httpx2.RemoteProtocolError."""
    server.add(scenario("disconnect_after: 1"))
    stream = await aclient.chat.completions.create(model=MODEL, messages=USER, stream=True)
    delivered: list[str] = []
    with pytest.raises(openai.APIConnectionError) as info:
        async for c in stream:
            if c.choices and c.choices[0].delta.content:
                delivered.append(c.choices[0].delta.content)
    assert type(info.value.__cause__) is httpx2.RemoteProtocolError
    assert delivered == ["Once"]
