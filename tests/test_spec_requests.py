"""Requests the router's spec accepts are accepted over HTTP, with and without strict mode, and
the shapes it still refuses get a 400 naming the field (tables in validation_cases.py)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from validation_cases import SPEC_CASES, SPEC_INVALID_CASES, USER, WEATHER_TOOL
from wire import request

from emulator.testing import EmulatorServer

CATCH_ALL = {"name": "anything", "reply": {"content": "ok"}}


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize(("case_id", "request_body"), SPEC_CASES, ids=[c[0] for c in SPEC_CASES])
def test_spec_request_is_answered(
    server: EmulatorServer, case_id: str, request_body: dict[str, Any], strict: bool
) -> None:
    """A spec-valid body gets a 200 (default reply, or a scenario on a strict server), nothing ignored."""
    server.configure(time_scale=0, strict=strict)
    if strict:  # a strict server answers unmatched requests with 404
        server.add(CATCH_ALL)
    response = request(server.url, body=request_body)
    assert response.status == 200, response.body[:500]
    if request_body.get("stream") is True:
        assert response.data()[-1] == "[DONE]"
    else:
        assert response.json()["object"] == "chat.completion"
    (entry,) = server.requests
    assert (entry.validation_errors, entry.ignored_params) == ([], [])
    assert entry.scenario == ("anything" if strict else None)


@pytest.mark.parametrize(
    ("case_id", "request_body", "path", "message"),
    SPEC_INVALID_CASES,
    ids=[c[0] for c in SPEC_INVALID_CASES],
)
def test_spec_shape_still_invalid_in_strict_mode(
    server: EmulatorServer, case_id: str, request_body: Any, path: str, message: str
) -> None:
    """Strict mode changes nothing for a body the schemas refuse: 400 at the field's path."""
    server.configure(strict=True)
    server.add(CATCH_ALL)
    response = request(server.url, body=request_body)
    assert response.status == 400, response.body[:300]
    error = response.json()["error"]
    assert error["metadata"]["errors"][0]["path"] == path
    assert message in error["message"]


def test_server_tools_through_the_openai_sdk(server: EmulatorServer) -> None:
    """The openai SDK sends server tools, a server tool_choice and the cache and trace keys; a
    strict server answers, and the default reply calls no server tool as if it were a function."""
    server.configure(strict=True)
    server.add(CATCH_ALL)
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    reply = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=[USER],  # type: ignore[list-item]
        tools=[{"type": "openrouter:web_search", "parameters": {"max_results": 5}}, WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "openrouter:web_search"},  # type: ignore[arg-type, typeddict-item]
        prompt_cache_key="conversation-42",
        reasoning_effort="low",
        extra_body={
            "cache_control": {"type": "ephemeral"},
            "trace": {"trace_id": "trace-abc123"},
            "stop_server_tools_when": [{"type": "step_count_is", "step_count": 5}],
        },
    )
    assert reply.choices[0].message.content == "ok"
    assert server.last_request.ignored_params == []


def test_server_tool_choice_default_reply_is_text(server: EmulatorServer) -> None:
    """With only server tools and tool_choice "required", the default reply is text, not a call
    of a function the request never offered."""
    server.configure(time_scale=0)
    body = {
        "model": "openai/gpt-4o",
        "messages": [USER],
        "tools": [{"type": "openrouter:datetime"}],
        "tool_choice": "required",
    }
    message = request(server.url, body=body).json()["choices"][0]["message"]
    assert message.get("tool_calls") is None and message["content"]
