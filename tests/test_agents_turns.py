"""Turn-aware matching: the conversation facts, each criterion through the openai SDK and on the
wire, an agent loop that ends because of them, and the load-time loop warning."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from wire import chat

from emulator import cli
from emulator.errors import ScenarioError
from emulator.loader import load_text
from emulator.testing import EmulatorServer
from emulator.turns import loop_warnings, turns_of

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "get_time", "arguments": "{}"},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 C"},
]

AGENT = """
scenarios:
  - name: ask-for-weather
    match: {tools: [get_weather], turn: 0}
    reply:
      tool_calls: [{name: get_weather, arguments: {city: Paris}}]
  - name: final-answer
    match: {last_role: tool, tool_result: {name: get_weather, content: {contains: sunny}}}
    reply: {content: "It is sunny in Paris."}
"""


def client(server: EmulatorServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)


# --- facts -------------------------------------------------------------------------------------


def test_facts_of_a_conversation_with_a_tool_result() -> None:
    """The turn count, last role, result id, answered name, content and called tools are read."""
    facts = turns_of(CONVERSATION)
    assert (facts.turn, facts.last_role) == (1, "tool")
    assert (facts.tool_call_id, facts.tool_name, facts.tool_content) == (
        "call_1",
        "get_weather",
        "sunny, 21 C",
    )
    assert facts.tools_called == ("get_weather", "get_time")


def test_facts_of_a_first_request() -> None:
    """A first request is turn 0 with no tool result and nothing called."""
    facts = turns_of([{"role": "user", "content": "hi"}])
    assert (facts.turn, facts.last_role, facts.tool_name, facts.tools_called) == (
        0,
        "user",
        None,
        (),
    )


def test_a_tool_message_name_is_the_fallback() -> None:
    """A tool result whose call is not in the conversation is named by its own `name`."""
    facts = turns_of([{"role": "tool", "tool_call_id": "x", "name": "lookup", "content": "1"}])
    assert facts.tool_name == "lookup"


# --- the agent loop ----------------------------------------------------------------------------


def run_tools(api: openai.OpenAI, question: str, limit: int = 5) -> tuple[str, int]:
    """A runTools-style loop: call tools until the model answers; returns (answer, requests)."""
    messages: list[Any] = [{"role": "user", "content": question}]
    for calls in range(1, limit + 1):
        completion = api.chat.completions.create(
            model="openai/gpt-4o", messages=messages, tools=[WEATHER_TOOL]
        )
        message = completion.choices[0].message
        if not message.tool_calls:
            return message.content or "", calls
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            args = json.loads(call.function.arguments)
            result = f"sunny in {args['city']}"
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    raise AssertionError(f"the agent loop did not end after {limit} requests")


def test_agent_loop_ends_thanks_to_turn_matching(server: EmulatorServer) -> None:
    """Tool call, tool result, final answer: the loop ends on the second request."""
    server.add(AGENT)
    answer, requests = run_tools(client(server), "weather in Paris?")
    assert (answer, requests) == ("It is sunny in Paris.", 2)
    assert [e.scenario for e in server.requests] == ["ask-for-weather", "final-answer"]


def test_agent_loop_streaming_with_async_client(server: EmulatorServer) -> None:
    """The same loop through the async client's stream helper."""
    import asyncio

    server.add(AGENT)

    async def loop() -> str:
        api = openai.AsyncOpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
        messages: list[Any] = [{"role": "user", "content": "weather?"}]
        for _ in range(3):
            async with api.chat.completions.stream(
                model="openai/gpt-4o", messages=messages, tools=[WEATHER_TOOL]
            ) as stream:
                final = await stream.get_final_completion()
            message = final.choices[0].message
            if not message.tool_calls:
                await api.close()
                return message.content or ""
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny"})
        raise AssertionError("no final answer")

    assert asyncio.run(loop()) == "It is sunny in Paris."


# --- each criterion ------------------------------------------------------------------------------


CRITERIA = [
    ("turn: 1", True),
    ("turn: 0", False),
    ("turn: {min: 1}", True),
    ("turn: {max: 0}", False),
    ("last_role: tool", True),
    ("last_role: user", False),
    ("tool_result: {tool_call_id: call_1}", True),
    ("tool_result: {tool_call_id: call_2}", False),
    ("tool_result: {name: get_weather}", True),
    ("tool_result: {name: {glob: 'get_*'}}", True),
    ("tool_result: {name: get_time}", False),
    ("tool_result: {content: {contains: sunny}}", True),
    ("tool_result: {content: {regex: '^rain'}}", False),
    ("tools_called: [get_weather, get_time]", True),
    ("tools_called: [search]", False),
]


@pytest.mark.parametrize(("criterion", "matches"), CRITERIA)
def test_each_criterion_through_the_sdk(
    server: EmulatorServer, criterion: str, matches: bool
) -> None:
    """Each criterion decides whether the scenario answers the conversation."""
    server.add(f"name: probe\nmatch: {{{criterion}}}\nreply: {{content: matched}}\n")
    completion = client(server).chat.completions.create(
        model="openai/gpt-4o", messages=CONVERSATION
    )
    assert (completion.choices[0].message.content == "matched") is matches


REASONS = [
    ("turn: 3", "turn is 1, expected 3"),
    ("turn: {min: 2, max: 4}", "turn is 1, expected 2 to 4"),
    ("last_role: user", "the last message's role is 'tool', expected 'user'"),
    (
        "tool_result: {name: get_time}",
        "tool_result.name does not equal 'get_time' (was: 'get_weather')",
    ),
    (
        "tools_called: [search]",
        "tool(s) search were not called earlier (called: get_weather, get_time)",
    ),
]


@pytest.mark.parametrize(("criterion", "reason"), REASONS)
def test_strict_404_names_the_failed_criterion(
    server: EmulatorServer, criterion: str, reason: str
) -> None:
    """On the wire, a strict-mode 404 says which turn criterion failed and why."""
    server.configure(strict=True)
    server.add(f"name: probe\nmatch: {{{criterion}}}\nreply: {{content: x}}\n")
    answer = chat(server.url, model="openai/gpt-4o", messages=CONVERSATION)
    assert answer.status == 404
    assert answer.json()["error"]["metadata"]["near_misses"] == [
        {"scenario": "probe", "reasons": [reason]}
    ]


def test_turn_range_min_above_max_is_refused() -> None:
    """A `turn` range whose min exceeds its max is a file:line error."""
    with pytest.raises(ScenarioError, match=r"x.yaml:3: match.turn: min \(3\) is greater"):
        load_text("name: a\nmatch:\n  turn: {min: 3, max: 1}\nreply: {content: x}\n", "x.yaml")


# --- the loop warning --------------------------------------------------------------------------


LOOPING = """
name: weather-tool
match: {tools: [get_weather]}
reply:
  tool_calls: [{name: get_weather}]
"""


def test_a_tool_call_scenario_matching_its_follow_up_is_warned() -> None:
    """A tool-call scenario with nothing telling the follow-up apart gets a warning."""
    (message,) = loop_warnings(load_text(LOOPING, "loop.yaml"))
    assert message.startswith(
        "loop.yaml:2: scenario 'weather-tool' returns a call to 'get_weather' and would also "
        "match the request carrying that tool's result"
    )


@pytest.mark.parametrize(
    "criterion",
    [
        "turn: 0",
        "has_tool_result: false",
        "last_role: user",
        "turn: {max: 0}",
        "tool_result: {name: other}",
        "tool_result: {content: {contains: x}}",
    ],
)
def test_criteria_that_tell_the_follow_up_apart_silence_the_warning(criterion: str) -> None:
    """Any criterion the follow-up request fails means no warning."""
    text = LOOPING.replace("{tools: [get_weather]}", f"{{tools: [get_weather], {criterion}}}")
    assert loop_warnings(load_text(text)) == []


def test_a_sequence_that_moves_on_is_not_warned() -> None:
    """A sequence whose next step is not a tool call does not loop."""
    text = """
name: steps
sequence:
  - reply: {tool_calls: [{name: get_weather}]}
  - reply: {content: done}
"""
    assert loop_warnings(load_text(text)) == []


def test_the_agent_example_is_not_warned() -> None:
    """The agent scenarios of this module load without a warning."""
    assert loop_warnings(load_text(AGENT)) == []


def test_adding_a_looping_scenario_logs_a_warning(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    """EmulatorServer.add logs a warning naming the scenario."""
    with caplog.at_level("WARNING", logger="emulator"):
        server.add(LOOPING)
    (record,) = [r for r in caplog.records if "returns a call" in r.getMessage()]
    assert "'weather-tool' returns a call to 'get_weather'" in record.getMessage()


def test_the_warned_scenario_does_loop_through_the_sdk(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The warning is true: a runTools-style loop against the warned scenario gets the same tool
    call again and again, never a final answer."""
    with caplog.at_level("WARNING", logger="emulator"):
        server.add(
            LOOPING.replace("{name: get_weather}", "{name: get_weather, arguments: {city: Paris}}")
        )
    assert any("'weather-tool' returns a call" in r.getMessage() for r in caplog.records)
    with pytest.raises(AssertionError, match="did not end after 3 requests"):
        run_tools(client(server), "weather in Paris?", limit=3)
    assert [e.scenario for e in server.requests] == ["weather-tool"] * 3


def test_validate_prints_the_warning(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chat-emulator validate` prints the warning and still succeeds."""
    (tmp_path / "loop.yaml").write_text(LOOPING)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", "loop.yaml"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: loop.yaml:2: scenario 'weather-tool' returns a call")


def test_admin_load_returns_the_warning(server: EmulatorServer) -> None:
    """POST /_emulator/scenarios loads a looping scenario and returns the warning."""
    from wire import request

    answer = request(
        server.url,
        path="/_emulator/scenarios",
        raw=LOOPING.encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert answer.status == 201
    (warning,) = answer.json()["warnings"]
    assert "scenario 'weather-tool' returns a call to 'get_weather'" in warning
