"""tool_choice checks no single schema can express, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from wire import chat

from emulator.testing import EmulatorServer

TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


@pytest.mark.parametrize(
    "extra,message",
    [
        (
            {
                "tools": [TOOL],
                "tool_choice": {"type": "function", "function": {"name": "get_time"}},
            },
            "tool_choice.function.name: names 'get_time', which is not among the offered tools (get_weather)",
        ),
        (
            {"tool_choice": {"type": "function", "function": {"name": "get_time"}}},
            "tool_choice.function.name: names 'get_time', which is not among the offered tools (none)",
        ),
        ({"tool_choice": "required"}, "tools: required when tool_choice is 'required'"),
        (
            {"tools": [], "tool_choice": "required"},
            "tools: must offer at least one tool when tool_choice is 'required'",
        ),
    ],
)
def test_inconsistent_tool_choice_is_400(
    server: EmulatorServer, extra: dict[str, Any], message: str
) -> None:
    """A tool_choice that no offered tool can satisfy gets a 400 naming it."""
    response = chat(server.url, **extra)
    assert response.status == 400
    assert response.json()["error"]["message"] == message


@pytest.mark.parametrize(
    "choice",
    ["auto", "none", "required", {"type": "function", "function": {"name": "get_weather"}}],
)
def test_consistent_tool_choice_passes(server: EmulatorServer, choice: Any) -> None:
    """Every tool_choice that the offered tools satisfy is accepted."""
    assert chat(server.url, tools=[TOOL], tool_choice=choice).status == 200
