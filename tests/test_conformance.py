"""Every response the emulator sends validates against the router's own response schemas (the
reduced copy of its OpenAPI spec in tests/spec/): the shipped scenario library, the default
replies (JSON and stream) and every error preset, as an HTTP error, an in-band stream error and
a choice error."""

from __future__ import annotations

import contextlib
import http.client
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import rawsse
from conformance import problems, stream_problems
from wire import RawResponse, request

from emulator.config import Config
from emulator.loader import load_paths
from emulator.presets import PRESET_NAMES
from emulator.scenario import Fault, Reply
from emulator.testing import EmulatorServer

CHAT = "sendChatCompletionRequest"
LIBRARY = Path(str(files("emulator.scenarios")))
MODEL = "openai/gpt-4o"
USER = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "timezone": {"type": "string"}},
            },
        },
    }
    for name in ("get_weather", "get_time")
]
BASE = {"model": MODEL, "messages": USER, "tools": TOOLS}


@pytest.fixture(scope="module")
def lib_server() -> Iterator[EmulatorServer]:
    """One server with the whole library loaded, time made 1000x faster."""
    with EmulatorServer(Config(fixed_time=1735689600, time_scale=0.001)) as server:
        server.load(LIBRARY)
        yield server


def _library_cases() -> list[Any]:
    cases = []
    for scenario in load_paths([LIBRARY]):
        for index, step in enumerate(scenario.steps):
            if isinstance(step, Fault):
                continue  # a broken answer on purpose (reset, empty, hang, malformed JSON)
            for stream in (False, True):
                kind = "stream" if stream else "json"
                cases.append(
                    pytest.param(scenario.name, index, stream, id=f"{scenario.name}-{index}-{kind}")
                )
    return cases


def _step(name: str, index: int) -> object:
    (scenario,) = [s for s in load_paths([LIBRARY]) if s.name == name]
    return scenario.steps[index]


def assert_conforms(response: RawResponse, stream: bool) -> None:
    """The response validates for its status (a 200 stream: each JSON data event)."""
    if stream and response.status == 200:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert stream_problems(response.body) == []
    else:
        assert problems(CHAT, response.status, response.json()) == []


@pytest.mark.parametrize(("name", "step", "stream"), _library_cases())
def test_library_response_conforms(
    lib_server: EmulatorServer, name: str, step: int, stream: bool
) -> None:
    """Each step of each library scenario (faults aside) validates, as JSON and as a stream."""
    lib_server.emulator.state.reset_counters()
    headers = {"X-Emulator-Scenario": name}
    body = {**BASE, "stream": stream}
    for _ in range(step):  # the earlier steps of a sequence (a fault among them breaks on purpose)
        with contextlib.suppress(OSError, http.client.HTTPException):
            request(lib_server.url, body=body, headers=headers)
    if not stream or not isinstance(_step(name, step), Reply):
        assert_conforms(request(lib_server.url, body=body, headers=headers), stream)
        return
    # Read at the socket level: some library streams disconnect or stall on purpose.
    raw = rawsse.post(lib_server.port, body, headers, timeout=5.0)
    assert raw.status == 200
    assert stream_problems(raw.body) == []


DEFAULT_REQUESTS = {
    "text": {},
    "tools": {"tool_choice": "required"},
    "named-tool": {"tool_choice": {"type": "function", "function": {"name": "get_time"}}},
    "structured": {
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "weather",
                "strict": True,
                "schema": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "temp": {"type": "number"}},
                    "required": ["city", "temp"],
                    "additionalProperties": False,
                },
            },
        }
    },
    "json-object": {"response_format": {"type": "json_object"}},
    "reasoning": {"model": "deepseek/deepseek-r1", "reasoning": {"effort": "high"}},
    "logprobs": {"logprobs": True, "top_logprobs": 3},
    "n-choices": {"n": 3},
    "max-tokens": {"max_tokens": 3},
    # A legacy `prompt` request gets `text` choices, the docs' NonChatChoice, which the spec's
    # ChatResult (choices need `message`) does not describe: not checked here.
}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("case", sorted(DEFAULT_REQUESTS))
def test_default_reply_conforms(server: EmulatorServer, case: str, stream: bool) -> None:
    """The built-in reply to each kind of request validates, as JSON and as a stream."""
    body = {**BASE, **DEFAULT_REQUESTS[case], "stream": stream}
    response = request(server.url, body=body)
    assert response.status == 200
    assert_conforms(response, stream)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_error_preset_conforms(server: EmulatorServer, preset: str, stream: bool) -> None:
    """Every preset as an HTTP error validates against its status's error response."""
    server.add({"name": preset, "error": preset})
    response = request(server.url, body={**BASE, "stream": stream})
    assert response.status >= 400
    assert_conforms(response, stream=False)


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_in_band_error_preset_conforms(server: EmulatorServer, preset: str) -> None:
    """Every preset as a mid-stream error event validates as a ChatStreamChunk."""
    server.add(
        {
            "name": preset,
            "reply": {"content": "a b c d", "stream": {"error_after": 2, "error": preset}},
        }
    )
    response = request(server.url, body={**BASE, "stream": True})
    assert response.status == 200 and b'"error":' in response.body
    assert_conforms(response, stream=True)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_choice_error_preset_conforms(server: EmulatorServer, preset: str, stream: bool) -> None:
    """Every preset as a choice error (a 200 with finish_reason error) validates."""
    server.add({"name": preset, "reply": {"content": "partial", "choice_error": preset}})
    response = request(server.url, body={**BASE, "stream": stream})
    assert response.status == 200
    assert_conforms(response, stream)


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({"model": MODEL}, None, 400),
        ({**BASE, "temperature": 9}, None, 400),
        (BASE, {"Authorization": None}, 401),
    ],
    ids=["no-messages", "out-of-range", "no-auth"],
)
def test_request_errors_conform(
    server: EmulatorServer, body: dict[str, Any], headers: dict[str, Any] | None, status: int
) -> None:
    """The emulator's own rejections (validation, auth) validate as the spec's error bodies."""
    response = request(server.url, body=body, headers=headers)
    assert response.status == status
    assert_conforms(response, stream=False)


RICH_REPLY = {
    "content": "Sunny today.",
    "reasoning": "Look it up.",
    "reasoning_details": [
        {"type": "reasoning.summary", "summary": "Checked.", "format": "anthropic-claude-v1"},
        {"type": "reasoning.encrypted", "data": "gAAAAB...", "format": "unknown"},
        {"type": "reasoning.text", "text": "Look it up.", "signature": None, "index": 0},
        {
            "type": "reasoning.server_tool_call",
            "tool_name": "web_search",
            "arguments": "{}",
            "result": "[]",
        },
    ],
    "annotations": [
        {
            "type": "url_citation",
            "url_citation": {
                "url": "https://example.com",
                "title": "t",
                "start_index": 0,
                "end_index": 5,
            },
        }
    ],
    "images": ["https://example.com/cat.png"],
}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("opt_in", [False, True], ids=["plain", "router-metadata"])
def test_message_fields_and_router_metadata_conform(
    server: EmulatorServer, stream: bool, opt_in: bool
) -> None:
    """Every reasoning_details type, annotations, images, logprobs and openrouter_metadata
    validate, as JSON and as a stream."""
    server.add({"name": "rich", "reply": RICH_REPLY})
    headers = {"X-OpenRouter-Metadata": "enabled"} if opt_in else None
    body = {**BASE, "logprobs": True, "top_logprobs": 2, "stream": stream}
    response = request(server.url, body=body, headers=headers)
    assert response.status == 200
    assert (b'"openrouter_metadata"' in response.body) is opt_in
    assert_conforms(response, stream)
