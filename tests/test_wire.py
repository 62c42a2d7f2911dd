"""Byte-level checks of what goes on the wire, including the protocol examples field by field."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from rawsse import usage
from wire import chat, request

from emulator.scenario import (
    ChoiceSpec,
    ErrorBody,
    Reply,
    Scenario,
    StreamEvent,
    StreamSpec,
    ToolCallSpec,
)
from emulator.testing import EmulatorServer

GEN_ID = re.compile(r"^gen-1735689600-[A-Za-z0-9]{20}$")
MEANING = "The meaning of life is a question people answer differently."
CLAUDE = "anthropic/claude-3.5-sonnet"


def scenario(name: str, reply: Reply) -> Scenario:
    return Scenario(name=name, steps=(reply,))


def without_id(payload: Any) -> Any:
    """A chunk or body with its (random) id checked for format and removed."""
    assert GEN_ID.match(payload["id"]), payload["id"]
    return {k: v for k, v in payload.items() if k != "id"}


def test_non_stream_body_matches_example(server: EmulatorServer) -> None:
    """response_nonstream.json is reproduced field by field (id format aside)."""
    server.add(scenario("meaning", Reply(ChoiceSpec(content=MEANING), model=CLAUDE)))
    resp = chat(server.url, model="claude-3-5-sonnet@20240620")
    expected = {
        "provider": "Anthropic",
        "model": CLAUDE,
        "object": "chat.completion",
        "created": 1735689600,
        "system_fingerprint": None,
        "choices": [
            {
                "logprobs": None,
                "finish_reason": "stop",
                "native_finish_reason": "end_turn",
                "index": 0,
                "message": {"role": "assistant", "content": MEANING, "refusal": None},
            }
        ],
        "usage": usage(11, 14, CLAUDE),
    }
    assert resp.status == 200
    assert without_id(resp.json()) == expected
    assert list(resp.json()) == [
        "id",
        "provider",
        "model",
        "object",
        "created",
        "system_fingerprint",
        "choices",
        "usage",
    ]
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["x-generation-id"] == resp.json()["id"]


def test_stream_matches_text_example(server: EmulatorServer) -> None:
    """stream_text.sse is reproduced event by event: comment first, role once, usage, [DONE]."""
    chunks = ("The meaning", " of life is", " a question people", " answer differently.")
    server.add(scenario("meaning", Reply(model=CLAUDE, stream=StreamSpec(chunks=chunks))))
    resp = chat(server.url, stream=True)
    events = resp.events()
    assert events[0] == ": OPENROUTER PROCESSING"
    assert all(e.startswith("data: ") for e in events[1:])
    data = resp.data()
    head = {
        "provider": "Anthropic",
        "model": CLAUDE,
        "object": "chat.completion.chunk",
        "created": 1735689600,
    }

    def delta(
        d: dict[str, Any], finish: str | None = None, native: str | None = None
    ) -> dict[str, Any]:
        return {
            **head,
            "choices": [
                {
                    "index": 0,
                    "delta": d,
                    "finish_reason": finish,
                    "native_finish_reason": native,
                    "logprobs": None,
                }
            ],
        }

    expected = [
        delta({"role": "assistant", "content": ""}),
        *(delta({"content": c}) for c in chunks),
        delta({}, "stop", "end_turn"),
        {
            **head,
            "choices": [],
            "usage": usage(11, 14, CLAUDE),
        },
    ]
    assert [without_id(d) for d in data[:-1]] == expected
    assert data[-1] == "[DONE]"
    assert len({d["id"] for d in data[:-1]}) == 1
    assert resp.headers["content-type"] == "text/event-stream"
    assert resp.headers["cache-control"] == "no-cache"
    assert resp.headers["x-generation-id"] == data[0]["id"]
    assert resp.headers["transfer-encoding"] == "chunked"


def test_stream_matches_tool_call_example(server: EmulatorServer) -> None:
    """stream_toolcalls.sse: headers carry index/id/type/name once, then index + fragments."""
    calls = (
        ToolCallSpec("get_weather", '{"city":"Paris"}', "call_c91SqDXlYFuETYv8mUHzz6pp"),
        ToolCallSpec("get_weather", '{"city":"Rome"}', "call_DNYTawLBoN8fj3KN6qU9N1Ou"),
    )
    from emulator.scenario import Chunking

    reply = Reply(
        ChoiceSpec(tool_calls=calls),
        model="openai/gpt-4o",
        system_fingerprint="fp_0123456789",
        stream=StreamSpec(chunking=Chunking("none")),
    )
    server.add(scenario("tools", reply))
    data = chat(server.url, stream=True).data()
    choices = [d["choices"][0] for d in data[:-2]]
    assert choices[0]["delta"] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "index": 0,
                "id": "call_c91SqDXlYFuETYv8mUHzz6pp",
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
        ],
    }
    assert choices[1]["delta"] == {
        "tool_calls": [{"index": 0, "function": {"arguments": '{"city":"Paris"}'}}]
    }
    assert choices[2]["delta"] == {
        "tool_calls": [
            {
                "index": 1,
                "id": "call_DNYTawLBoN8fj3KN6qU9N1Ou",
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
        ]
    }
    assert choices[3]["delta"] == {
        "tool_calls": [{"index": 1, "function": {"arguments": '{"city":"Rome"}'}}]
    }
    assert (choices[4]["delta"], choices[4]["finish_reason"]) == ({}, "tool_calls")
    assert all(d["system_fingerprint"] == "fp_0123456789" for d in data[:-1])
    assert data[-2]["choices"] == [] and data[-1] == "[DONE]"


def test_midstream_error_matches_example(server: EmulatorServer) -> None:
    """stream_midstream_error.sse: content, then the top-level error event, then [DONE]."""
    error = ErrorBody(
        502,
        "Provider returned error",
        {
            "provider_name": "Anthropic",
            "raw": "upstream connection reset",
            "error_type": "provider_unavailable",
        },
    )
    reply = Reply(
        ChoiceSpec(content="The meaning of life"),
        model=CLAUDE,
        stream=StreamSpec(chunks=("The meaning", " of life"), error_after=1, error=error),
    )
    server.add(scenario("broken", reply))
    data = chat(server.url, stream=True).data()
    assert [d["choices"][0]["delta"] for d in data[:2]] == [
        {"role": "assistant", "content": ""},
        {"content": "The meaning"},
    ]
    with open_example("chunk_midstream_error.json") as expected:
        assert without_id(data[2]) == without_id(expected)
    assert list(data[2]) == list(expected)
    assert data[3] == "[DONE]" and len(data) == 4


class open_example:
    """The protocol example files, copied into tests/examples so tests don't need ../shared."""

    def __init__(self, name: str) -> None:
        from pathlib import Path

        self.path = Path(__file__).parent / "examples" / name

    def __enter__(self) -> Any:
        return json.loads(self.path.read_text())

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize("shape", ["empty_choices", "openrouter"])
def test_usage_chunk_shapes(make_server: Callable[..., EmulatorServer], shape: str) -> None:
    """Both usage-chunk shapes of decision D1, exactly one, right before [DONE]."""
    server = make_server(usage_chunk=shape)
    server.add(scenario("meaning", Reply(ChoiceSpec(content=MEANING), model=CLAUDE)))
    data = chat(server.url, stream=True).data()
    usage_chunks = [d for d in data[:-1] if "usage" in d]
    assert len(usage_chunks) == 1 and usage_chunks[0] is data[-2]
    name = (
        "chunk_usage_empty_choices.json"
        if shape == "empty_choices"
        else "chunk_usage_repeat_choice.json"
    )
    with open_example(name) as expected:
        if (
            shape == "openrouter"
        ):  # the capture repeats role; decision D2 does not (see protocol.py)
            expected["choices"][0]["delta"] = {}
        # The capture predates usage details and cost: the same counts, reported in full.
        counts = expected["usage"]
        expected["usage"] = usage(counts["completion_tokens"], counts["prompt_tokens"], CLAUDE)
        assert without_id(data[-2]) == without_id(expected)


def test_usage_chunk_none(make_server: Callable[..., EmulatorServer]) -> None:
    """usage_chunk none sends no usage chunk at all."""
    server = make_server(usage_chunk="none")
    data = chat(server.url, stream=True).data()
    assert not any("usage" in d for d in data[:-1]) and data[-1] == "[DONE]"


def test_role_only_on_first_delta(server: EmulatorServer) -> None:
    """delta.role appears in the first chunk only (decision D2)."""
    data = chat(server.url, stream=True).data()[:-1]
    roles = [d["choices"][0]["delta"].get("role") for d in data if d["choices"]]
    assert roles[0] == "assistant" and not any(roles[1:])


def test_events_are_data_lines_and_comments_only(server: EmulatorServer) -> None:
    """No id:, retry: or event: lines ever (decision D13); every event ends in a blank line."""
    body = chat(server.url, stream=True).body.decode()
    lines = [line for line in body.split("\n") if line]
    assert all(line.startswith(("data: ", ": ")) for line in lines)
    assert body.endswith("data: [DONE]\n\n")


def test_accept_header_does_not_decide_streaming(server: EmulatorServer) -> None:
    """Accept: text/event-stream without stream:true still gets JSON (the body decides)."""
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    resp = request(server.url, body=body, headers={"Accept": "text/event-stream"})
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["object"] == "chat.completion"


def test_api_path_alias(server: EmulatorServer) -> None:
    """/api/v1/chat/completions (the router's own path) answers like /v1."""
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    assert request(server.url, path="/api/v1/chat/completions", body=body).status == 200


def test_missing_auth_is_401_envelope(server: EmulatorServer) -> None:
    """No Authorization header: 401 with the router's exact body."""
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    resp = request(server.url, body=body, headers={"Authorization": None})  # type: ignore[dict-item]
    assert resp.status == 401
    assert resp.json() == {
        "error": {
            "code": 401,
            "message": "No auth credentials found",
            "metadata": {"error_type": "authentication"},
        }
    }


def test_unknown_route_is_404_envelope(server: EmulatorServer) -> None:
    """An unknown path answers 404 in the envelope, never an HTML page."""
    resp = request(server.url, method="GET", path="/v1/nothing")
    assert resp.status == 404
    assert resp.json()["error"]["code"] == 404
    assert resp.headers["content-type"].startswith("application/json")


def test_wrong_method_is_405_envelope(server: EmulatorServer) -> None:
    """GET on the chat endpoint is a 405 in the envelope with an Allow header."""
    resp = request(server.url, method="GET")
    assert resp.status == 405 and resp.json()["error"]["code"] == 405
    assert "POST" in resp.headers["allow"]


def test_same_request_same_bytes(server: EmulatorServer) -> None:
    """Same seed and request on a fresh server: the same bytes, streaming and not."""
    body = {
        "model": "openai/gpt-4o",
        "messages": [{"role": "user", "content": "Tell me a story"}],
        "n": 2,
    }
    first = [
        request(server.url, body=body).body,
        request(server.url, body={**body, "stream": True}).body,
    ]
    server.reset()
    second = [
        request(server.url, body=body).body,
        request(server.url, body={**body, "stream": True}).body,
    ]
    assert first == second


def test_seed_changes_the_text(server: EmulatorServer) -> None:
    """Another seed gives another reply to the same request."""
    first = chat(server.url).json()["choices"][0]["message"]["content"]
    server.configure(seed=7)
    assert chat(server.url).json()["choices"][0]["message"]["content"] != first


def test_prompt_request_gets_text_choices(server: EmulatorServer) -> None:
    """A legacy `prompt` request gets text choices (PROTOCOL §2.1), streamed as text deltas."""
    body = {"model": "openai/gpt-4o", "prompt": "Once upon a time"}
    whole = request(server.url, body=body).json()
    assert set(whole["choices"][0]) >= {"text", "finish_reason", "index"}
    assert "message" not in whole["choices"][0]
    assert whole["usage"]["prompt_tokens"] == 4
    data = request(server.url, body={**body, "stream": True}).data()
    text = "".join(d["choices"][0].get("text", "") for d in data[:-1] if d["choices"])
    assert text == whole["choices"][0]["text"]


def test_hand_written_events_play_as_written(server: EmulatorServer) -> None:
    """stream.events: comments, content and finish play in order, role added to the first delta."""
    events = (
        StreamEvent("comment", "hello"),
        StreamEvent("content", "Hi"),
        StreamEvent("raw", "data: {not json\n\n"),
        StreamEvent("finish", "stop"),
        StreamEvent("done", True),
    )
    server.add(scenario("hand", Reply(stream=StreamSpec(events=events))))
    body = chat(server.url, stream=True).body.decode()
    parts = body.split("\n\n")
    assert parts[0] == ": hello"
    assert json.loads(parts[1][6:])["choices"][0]["delta"] == {"role": "assistant", "content": "Hi"}
    assert parts[2] == "data: {not json"
    assert json.loads(parts[3][6:])["choices"][0]["finish_reason"] == "stop"
    assert parts[4] == "data: [DONE]"
