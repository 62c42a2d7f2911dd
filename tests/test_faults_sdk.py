"""Every chaos fault kind and every first-class stream fault through the official openai SDK, as
its users meet them: the exception class, the partial stream before the failure, or what the
stream helper rebuilds (sync, async and the stream helper). The byte-level tests of the same
faults are in test_chaos.py and test_stream_faults.py."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from emulator.testing import EmulatorServer

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
TEXT = "name: text\nreply: {content: one two three}\n"
TOOLS: list[Any] = [
    {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
    for n in ("get_weather", "get_time")
]
TWO_CALLS = """
name: faulty
match: {last_role: user}
reply:
  content: "one two three"
  tool_calls:
    - {name: get_weather, arguments: '{"city": "Par\\"is"}', id: call_a}
    - {name: get_time, arguments: '{"tz": "Europe/Paris"}', id: call_b}
  stream: {faults: {FAULT}}
"""
WEATHER_ARGUMENTS = '{"city": "Par\\"is"}'


def client(server: EmulatorServer, chaos: str | None = None, timeout: float = 5.0) -> openai.OpenAI:
    headers = {"X-Emulator-Chaos": chaos} if chaos else None
    return openai.OpenAI(
        base_url=server.base_url,
        api_key=server.api_key,
        max_retries=0,
        timeout=timeout,
        default_headers=headers,
    )


def async_client(server: EmulatorServer, chaos: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=server.base_url,
        api_key=server.api_key,
        max_retries=0,
        timeout=5.0,
        default_headers={"X-Emulator-Chaos": chaos},
    )


@pytest.fixture
def text_server(server: EmulatorServer) -> EmulatorServer:
    """The shared server answering "one two three" with no waits."""
    server.configure(time_scale=0)
    server.add(TEXT)
    return server


# --- chaos: every kind ------------------------------------------------------------------------

# (header, what `create` raises, what a stream raises)
CHAOS: list[tuple[str, type[Exception], type[Exception]]] = [
    ("disconnect=1", openai.APIConnectionError, openai.APIConnectionError),
    ("reset=1", openai.APIConnectionError, openai.APIConnectionError),
    ("stall:50=1", openai.APIConnectionError, openai.APIConnectionError),
    ("malformed=1", json.JSONDecodeError, json.JSONDecodeError),
    ("error:502=1", openai.InternalServerError, openai.InternalServerError),
    ("error:rate_limited=1", openai.RateLimitError, openai.RateLimitError),
    ("error_after:2=1", openai.InternalServerError, openai.APIError),
]
IDS = [header.split("=")[0] for header, _, _ in CHAOS]


@pytest.mark.parametrize(("header", "raised", "_"), CHAOS, ids=IDS)
def test_chaos_through_create(
    text_server: EmulatorServer, header: str, raised: type[Exception], _: type[Exception]
) -> None:
    """A non-streaming request under each chaos kind raises the SDK's exception for it."""
    with client(text_server, header) as sdk, pytest.raises(raised):
        sdk.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)
    chaos = text_server.last_request.chaos
    assert chaos is not None and chaos["fault"] == header.split(":")[0].split("=")[0]


@pytest.mark.parametrize(("header", "_", "raised"), CHAOS, ids=IDS)
def test_chaos_through_the_stream_helper(
    text_server: EmulatorServer, header: str, _: type[Exception], raised: type[Exception]
) -> None:
    """The stream helper under each chaos kind raises the SDK's exception for it."""
    with client(text_server, header) as sdk, pytest.raises(raised):
        with sdk.chat.completions.stream(model="openai/gpt-4o", messages=MESSAGES) as stream:
            stream.get_final_completion()


@pytest.mark.parametrize(("header", "_", "raised"), CHAOS, ids=IDS)
async def test_chaos_through_the_async_sdk(
    text_server: EmulatorServer, header: str, _: type[Exception], raised: type[Exception]
) -> None:
    """An async stream under each chaos kind raises the same exception as a sync one."""
    async with async_client(text_server, header) as sdk:
        with pytest.raises(raised):
            stream = await sdk.chat.completions.create(
                model="openai/gpt-4o", messages=MESSAGES, stream=True
            )
            async for _chunk in stream:
                pass


def test_error_after_gives_the_chunks_before_the_error(text_server: EmulatorServer) -> None:
    """error_after:2: the SDK yields the role chunk and two content chunks, then raises
    APIError carrying the router's error envelope."""
    seen: list[str | None] = []
    with client(text_server, "error_after:2=1") as sdk:
        stream = sdk.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIError) as info:
            for chunk in stream:
                seen.append(chunk.choices[0].delta.content)
    assert seen == ["", "one", " two"]
    assert info.value.message == "Provider returned error"
    assert isinstance(info.value.body, dict) and info.value.body["code"] == 502


async def test_error_after_in_the_async_stream_helper(text_server: EmulatorServer) -> None:
    """The async stream helper hands out "one two" as content deltas before the error."""
    text = []
    async with async_client(text_server, "error_after:2=1") as sdk:
        with pytest.raises(openai.APIError, match="Provider returned error"):
            async with sdk.chat.completions.stream(
                model="openai/gpt-4o", messages=MESSAGES
            ) as stream:
                async for event in stream:
                    if event.type == "content.delta":
                        text.append(event.delta)
    assert "".join(text) == "one two"


def test_a_stall_longer_than_the_client_timeout(text_server: EmulatorServer) -> None:
    """A stall outlasting the client's timeout (not shortened by time_scale=0) is the SDK's
    APITimeoutError; the journal says the client gave up."""
    with client(text_server, "stall:5000=1", timeout=0.3) as sdk:
        with pytest.raises(openai.APITimeoutError):
            sdk.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)
    entry = text_server.last_request
    assert entry.chaos is not None and entry.chaos["detail"] == "stall 5000 ms"


def test_malformed_json_body_is_what_the_sdk_cannot_parse(text_server: EmulatorServer) -> None:
    """malformed: the SDK's JSON parse of the 200 body fails where the body is cut."""
    with client(text_server, "malformed=1") as sdk:
        with pytest.raises(json.JSONDecodeError, match="char 33"):
            sdk.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)


# --- stream.faults: every key ------------------------------------------------------------------


def helper_message(server: EmulatorServer, fault: str) -> Any:
    """The message the stream helper rebuilds from a stream with `fault`."""
    server.configure(time_scale=0)
    server.add(TWO_CALLS.replace("FAULT", fault))
    with client(server) as sdk:
        with sdk.chat.completions.stream(
            model="openai/gpt-4o", messages=MESSAGES, tools=TOOLS
        ) as stream:
            return stream.get_final_completion().choices[0].message


def raw_chunks(server: EmulatorServer, fault: str) -> list[Any]:
    """The chunks `create(stream=True)` yields for a stream with `fault`."""
    server.configure(time_scale=0)
    server.add(TWO_CALLS.replace("FAULT", fault))
    with client(server) as sdk:
        stream = sdk.chat.completions.create(
            model="openai/gpt-4o", messages=MESSAGES, tools=TOOLS, stream=True
        )
        return list(stream)


def tool_deltas(chunks: list[Any]) -> list[Any]:
    return [c for chunk in chunks for ch in chunk.choices for c in ch.delta.tool_calls or ()]


def test_no_tool_call_index_breaks_the_stream_helper(server: EmulatorServer) -> None:
    """Without `index`, the helper cannot place a tool call: a TypeError from inside the SDK;
    the raw chunks carry index None."""
    with pytest.raises(TypeError, match="not NoneType"):
        helper_message(server, "no_tool_call_index: true")
    server.reset()
    assert {c.index for c in tool_deltas(raw_chunks(server, "no_tool_call_index: true"))} == {None}


def test_colliding_index_merges_two_calls_into_one(server: EmulatorServer) -> None:
    """Two calls on index 0: the helper glues their ids, names and arguments into one call."""
    message = helper_message(server, "colliding_tool_call_index: true")
    (call,) = message.tool_calls
    assert (call.id, call.function.name) == ("call_acall_b", "get_weatherget_time")
    assert call.function.arguments == WEATHER_ARGUMENTS + '{"tz": "Europe/Paris"}'


def test_duplicate_header_doubles_the_rebuilt_id_and_name(server: EmulatorServer) -> None:
    """A call announced twice on its index: the helper concatenates the id and the name, and
    keeps the arguments."""
    message = helper_message(server, "duplicate_tool_call_header: true")
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        ("call_acall_a", "get_weatherget_weather", WEATHER_ARGUMENTS),
        ("call_bcall_b", "get_timeget_time", '{"tz": "Europe/Paris"}'),
    ]


def test_empty_arguments_rebuild_as_empty_strings(server: EmulatorServer) -> None:
    """Each call is rebuilt with arguments "", names and ids intact."""
    message = helper_message(server, "empty_arguments: true")
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        ("call_a", "get_weather", ""),
        ("call_b", "get_time", ""),
    ]


def test_arguments_split_mid_escape_rebuild_exactly(server: EmulatorServer) -> None:
    """Fragments ending in a lone backslash still join into the exact arguments text."""
    chunks = raw_chunks(server, "arguments_split_mid_escape: true")
    pieces = [c.function.arguments for c in tool_deltas(chunks) if c.index == 0]
    assert any(p.endswith("\\") for p in pieces)
    server.reset()
    message = helper_message(server, "arguments_split_mid_escape: true")
    assert message.tool_calls[0].function.arguments == WEATHER_ARGUMENTS
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": 'Par"is'}


def test_comment_as_data_fails_the_sdk_json_parse(server: EmulatorServer) -> None:
    """`data: : OPENROUTER PROCESSING` is not JSON: the SDK raises JSONDecodeError at once,
    from the raw stream and from the helper."""
    with pytest.raises(json.JSONDecodeError, match="char 0"):
        raw_chunks(server, "comment_as_data: true")
    server.reset()
    with pytest.raises(json.JSONDecodeError, match="char 0"):
        helper_message(server, "comment_as_data: true")


def test_no_finish_reason_leaves_it_none(server: EmulatorServer) -> None:
    """No chunk has a finish_reason; the helper still rebuilds the text and the calls."""
    chunks = raw_chunks(server, "no_finish_reason: true")
    assert {ch.finish_reason for chunk in chunks for ch in chunk.choices} == {None}
    server.reset()
    message = helper_message(server, "no_finish_reason: true")
    assert message.content == "one two three" and len(message.tool_calls) == 2


def test_empty_choices_chunk_reaches_the_raw_stream(server: EmulatorServer) -> None:
    """`create(stream=True)` hands out the chunk with `choices: []` (no usage, unlike the last
    chunk's); the helper skips it."""
    chunks = raw_chunks(server, "empty_choices_chunk: true")
    assert (chunks[2].choices, chunks[2].usage) == ([], None)
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    server.reset()
    assert helper_message(server, "empty_choices_chunk: true").content == "one two three"


def test_chunks_missing_id_and_created(server: EmulatorServer) -> None:
    """Without id and created the helper rebuilds the message; the completion's id is None."""
    server.configure(time_scale=0)
    server.add(TWO_CALLS.replace("FAULT", "missing_chunk_fields: [id, created]"))
    with client(server) as sdk:
        with sdk.chat.completions.stream(
            model="openai/gpt-4o", messages=MESSAGES, tools=TOOLS
        ) as stream:
            completion = stream.get_final_completion()
    assert (completion.id, completion.created) == (None, None)
    assert completion.choices[0].message.content == "one two three"


def test_chunks_missing_object_leave_the_helper_without_a_snapshot(
    server: EmulatorServer,
) -> None:
    """Without `object` the raw chunks still come, but the helper builds no completion: an
    AssertionError from inside the SDK."""
    assert raw_chunks(server, "missing_chunk_fields: [object]")[1].choices[0].delta.content
    server.reset()
    with pytest.raises(AssertionError):
        helper_message(server, "missing_chunk_fields: [object]")


def test_duplicate_role_doubles_the_rebuilt_role(server: EmulatorServer) -> None:
    """The stream helper concatenates the two role deltas: role "assistantassistant"."""
    roles = [c.choices[0].delta.role for c in raw_chunks(server, "duplicate_role: true")[:3]]
    assert roles == ["assistant", "assistant", None]
    server.reset()
    message = helper_message(server, "duplicate_role: true")
    assert (message.role, message.content) == ("assistantassistant", "one two three")


# --- error_only -------------------------------------------------------------------------------

ERROR_ONLY = "name: error-only\nfault: {kind: error_only, error: rate_limited}\n"


def test_error_only_json_is_a_completion_without_choices(server: EmulatorServer) -> None:
    """The SDK accepts the 200 JSON body: a ChatCompletion whose choices is None and whose
    extra `error` field holds the envelope; no exception."""
    server.add(ERROR_ONLY)
    with client(server) as sdk:
        completion = sdk.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)
    assert completion.choices is None
    assert (completion.model_extra or {})["error"]["code"] == 429


def test_error_only_stream_raises_api_error(server: EmulatorServer) -> None:
    """The stream's one event is the envelope: APIError with its message and body, sync and
    through the helper."""
    server.add(ERROR_ONLY)
    with client(server) as sdk:
        with pytest.raises(openai.APIError, match="Rate limit exceeded") as info:
            list(sdk.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES, stream=True))
        assert isinstance(info.value.body, dict) and info.value.body["code"] == 429
        with pytest.raises(openai.APIError, match="Rate limit exceeded"):
            with sdk.chat.completions.stream(model="openai/gpt-4o", messages=MESSAGES) as stream:
                stream.get_final_completion()
