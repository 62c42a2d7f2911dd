"""First-class fault kinds, one key each, at the byte level: tool-call deltas without index,
colliding indexes, a duplicated tool-call header, empty arguments, arguments split mid-escape, a comment sent as data, no
finish_reason, an empty-choices chunk, chunks missing fields, a duplicate role, and the
error-only 200 (stream and JSON)."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from wire import RawResponse, request

from emulator.errors import ScenarioError
from emulator.loader import load_text
from emulator.testing import EmulatorServer

TOOLS = [
    {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
    for n in ("get_weather", "get_time")
]
BODY = {
    "model": "openai/gpt-4o",
    "messages": [{"role": "user", "content": "hi"}],
    "stream": True,
    "tools": TOOLS,
}
TWO_CALLS = """
name: faulty
reply:
  tool_calls:
    - {name: get_weather, arguments: '{"city": "Par\\"is"}', id: call_a}
    - {name: get_time, arguments: '{"tz": "Europe/Paris"}', id: call_b}
  stream: {faults: {FAULT}}
"""
TEXT = """
name: faulty
reply:
  content: "one two three"
  stream: {faults: {FAULT}}
"""


def play(server: EmulatorServer, template: str, fault: str, **body: Any) -> RawResponse:
    server.add(template.replace("FAULT", fault))
    return request(server.url, body={**BODY, **body})


def chunks(answer: RawResponse) -> list[dict[str, Any]]:
    return [d for d in answer.data() if isinstance(d, dict)]


def calls(answer: RawResponse) -> list[dict[str, Any]]:
    return [
        call
        for chunk in chunks(answer)
        for choice in chunk.get("choices", [])
        for call in choice["delta"].get("tool_calls", [])
    ]


def test_no_tool_call_index(server: EmulatorServer) -> None:
    """Every tool-call delta lacks `index`."""
    found = calls(play(server, TWO_CALLS, "no_tool_call_index: true"))
    assert found and all("index" not in c for c in found)


def test_colliding_tool_call_index(server: EmulatorServer) -> None:
    """Both calls stream on index 0: two headers with different ids share it."""
    found = calls(play(server, TWO_CALLS, "colliding_tool_call_index: true"))
    assert {c["index"] for c in found} == {0}
    assert [c["id"] for c in found if "id" in c] == ["call_a", "call_b"]


def test_duplicate_tool_call_header(server: EmulatorServer) -> None:
    """Each call's header (index, id, type, name) comes twice, the copy in its own chunk right
    after the first with arguments ""; the argument fragments follow once."""
    answer = play(server, TWO_CALLS, "duplicate_tool_call_header: true")
    headers = [(c["index"], c["id"], c["function"]["name"]) for c in calls(answer) if "id" in c]
    assert headers == [
        (0, "call_a", "get_weather"),
        (0, "call_a", "get_weather"),
        (1, "call_b", "get_time"),
        (1, "call_b", "get_time"),
    ]
    data = chunks(answer)
    assert data[1]["choices"][0]["delta"] == {
        "tool_calls": [
            {
                "index": 0,
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
        ]
    }
    pieces = [c["function"]["arguments"] for c in calls(answer) if c["index"] == 0]
    assert "".join(pieces) == '{"city": "Par\\"is"}'


def test_empty_arguments(server: EmulatorServer) -> None:
    """Each call's arguments is "" (the header's) and no fragment follows."""
    found = calls(play(server, TWO_CALLS, "empty_arguments: true"))
    assert [c["function"]["arguments"] for c in found] == ["", ""]


def test_arguments_split_mid_escape(server: EmulatorServer) -> None:
    """A fragment ends right after the backslash of `\\"`; the pieces join to the arguments."""
    answer = play(server, TWO_CALLS, "arguments_split_mid_escape: true")
    pieces = [c["function"]["arguments"] for c in calls(answer) if c.get("index") == 0]
    assert "".join(pieces) == '{"city": "Par\\"is"}'
    assert any(p.endswith("\\") for p in pieces)
    assert b'"arguments":"{\\"city\\": \\"Par\\\\"}' in answer.body


def test_comment_as_data(server: EmulatorServer) -> None:
    """The keep-alive comment goes out as a data line."""
    answer = play(server, TEXT, "comment_as_data: true")
    assert answer.events()[0] == "data: : OPENROUTER PROCESSING"
    assert not any(e.startswith(":") for e in answer.events())


def test_no_finish_reason(server: EmulatorServer) -> None:
    """No chunk carries a finish_reason; the text still arrives, then [DONE]."""
    answer = play(server, TEXT, "no_finish_reason: true")
    reasons = [c.get("finish_reason") for d in chunks(answer) for c in d["choices"]]
    assert set(reasons) == {None}
    assert answer.data()[-1] == "[DONE]"


def test_empty_choices_chunk(server: EmulatorServer) -> None:
    """A chunk with `choices: []` (and no usage) follows the first content chunk."""
    data = chunks(play(server, TEXT, "empty_choices_chunk: true"))
    assert data[1]["choices"][0]["delta"] == {"content": "one"}
    assert data[2]["choices"] == [] and "usage" not in data[2]


def test_missing_chunk_fields(server: EmulatorServer) -> None:
    """Every chunk lacks id and created."""
    data = chunks(play(server, TEXT, "missing_chunk_fields: [id, created]"))
    assert all("id" not in d and "created" not in d and "model" in d for d in data)


def test_duplicate_role(server: EmulatorServer) -> None:
    """The chunk after the role delta repeats role: assistant."""
    data = chunks(play(server, TEXT, "duplicate_role: true"))
    assert data[0]["choices"][0]["delta"]["role"] == "assistant"
    assert data[1]["choices"][0]["delta"] == {"role": "assistant", "content": "one"}


def test_sdk_rebuilds_text_despite_harmless_faults(server: EmulatorServer) -> None:
    """The openai stream helper copes with an empty-choices chunk and no finish_reason."""
    server.add(TEXT.replace("FAULT", "empty_choices_chunk: true, no_finish_reason: true"))
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    with client.chat.completions.stream(model="openai/gpt-4o", messages=BODY["messages"]) as stream:
        text = "".join(e.delta for e in stream if getattr(e, "type", "") == "content.delta")
    assert text == "one two three"


# --- error_only -------------------------------------------------------------------------------

ERROR_ONLY = """
name: error-only
fault: {kind: error_only, error: rate_limited}
"""


def test_error_only_json_body(server: EmulatorServer) -> None:
    """A non-streaming request gets a 200 whose whole body is the error envelope."""
    server.add(ERROR_ONLY)
    answer = request(server.url, body={**BODY, "stream": False})
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = json.loads(answer.body)
    assert list(body) == ["error"]
    assert (body["error"]["code"], body["error"]["message"]) == (429, "Rate limit exceeded")


def test_error_only_stream(server: EmulatorServer) -> None:
    """A streaming request gets a 200 SSE stream whose one event is the envelope, no [DONE]."""
    server.add(ERROR_ONLY)
    answer = request(server.url, body=BODY)
    assert answer.status == 200
    assert answer.body.startswith(b'data: {"error":{"code":429,"message":"Rate limit exceeded"')
    (event,) = answer.events()
    assert list(json.loads(event.removeprefix("data: "))) == ["error"]


def test_error_only_default_error() -> None:
    """Without `error`, error_only carries the provider_error preset."""
    (scenario,) = load_text("name: e\nfault: error_only\n")
    assert scenario.steps[0].kind == "error_only"  # type: ignore[union-attr]


def test_error_on_another_fault_kind_is_refused() -> None:
    """`error` only applies to error_only, said with file:line."""
    with pytest.raises(ScenarioError, match=r"x.yaml:2: fault.error only applies to kind"):
        load_text("name: e\nfault: {kind: reset, error: rate_limited}\n", "x.yaml")


def test_faults_beside_split_framing_are_refused() -> None:
    """Stream faults rewrite whole events, so a framing split beside them is refused."""
    text = "name: f\nreply:\n  stream:\n    faults: {duplicate_role: true}\n    framing: {split_every: 3}\n"
    with pytest.raises(ScenarioError, match="cuts events apart"):
        load_text(text, "x.yaml")
