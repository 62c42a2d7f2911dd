"""Turn-aware matching: where a request stands in an agent conversation (how many assistant
turns it carries, who spoke last, which tool result came back), and the load-time warning for a
scenario that returns a tool call and would also match the request carrying that tool's result
(the agent loop that never ends).

The facts follow the Chat Completions message shapes (spec schemas AssistantMessage and
ToolResponseMessage): an assistant message's `tool_calls[].id` and `function.name`, a tool
message's `tool_call_id` and `content` (a string or text parts). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from . import normalize
from .chatrequest import ChatRequest, text_of
from .normalize import Normalize
from .scenario import Reply, Scenario, TextMatcher, TurnMatch, TurnRange

ROLES = ("system", "developer", "user", "assistant", "tool")


@dataclass(frozen=True)
class Turns:
    """The conversation facts turn-aware criteria read from one request.

    `turn`: assistant messages so far (0 on the first request); `last_role`: the last message's
    role (None without messages); `tool_call_id`, `tool_name`, `tool_content`: the last tool
    message's id, the name of the function it answers (from the assistant message that made the
    call, else the tool message's own `name`), and its text; `tools_called`: function names of
    every earlier assistant tool call, in order, repeats kept.
    """

    turn: int = 0
    last_role: str | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    tool_content: str | None = None
    tools_called: tuple[str, ...] = ()


def _calls(message: dict[str, Any]) -> Iterable[tuple[str | None, str | None]]:
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        return
    for call in calls:
        if not isinstance(call, dict):
            continue
        fn = call.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
        call_id = call.get("id")
        yield (
            call_id if isinstance(call_id, str) else None,
            name if isinstance(name, str) else None,
        )


def turns_of(messages: list[dict[str, Any]]) -> Turns:
    """The facts of a `messages` list (the request body's, dicts only)."""
    turn = 0
    called: list[str] = []
    names: dict[str, str] = {}
    last_tool: dict[str, Any] | None = None
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            turn += 1
            for call_id, name in _calls(message):
                if name is not None:
                    called.append(name)
                    if call_id is not None:
                        names[call_id] = name
        elif role == "tool":
            last_tool = message
    last_role = messages[-1].get("role") if messages else None
    if last_tool is None:
        role = last_role if isinstance(last_role, str) else None
        return Turns(turn, role, tools_called=tuple(called))
    call_id = last_tool.get("tool_call_id")
    call_id = call_id if isinstance(call_id, str) else None
    own_name = last_tool.get("name")
    name = names.get(call_id or "") or (own_name if isinstance(own_name, str) else None)
    return Turns(
        turn,
        last_role if isinstance(last_role, str) else None,
        call_id,
        name,
        text_of(last_tool.get("content")),
        tuple(called),
    )


# --- criteria ------------------------------------------------------------------------------------


def _range_reason(wanted: TurnRange, turn: int) -> str | None:
    low, high = wanted.min, wanted.max
    if (low is None or turn >= low) and (high is None or turn <= high):
        return None
    if low == high:
        return f"turn is {turn}, expected {low}"
    if high is None:
        return f"turn is {turn}, expected at least {low}"
    if low is None:
        return f"turn is {turn}, expected at most {high}"
    return f"turn is {turn}, expected {low} to {high}"


def turn_reasons(
    wanted: TurnMatch,
    facts: Turns,
    text: Any,
) -> list[str]:
    """Why `facts` fail `wanted`, a line per failed criterion. `text(label, matcher, value)` is
    the text-operator check of `emulator.matching` (passed in to keep imports one way)."""
    reasons: list[str] = []
    if wanted.turn is not None:
        reason = _range_reason(wanted.turn, facts.turn)
        if reason:
            reasons.append(reason)
    if wanted.last_role is not None and wanted.last_role != facts.last_role:
        was = repr(facts.last_role) if facts.last_role else "none (no messages)"
        reasons.append(f"the last message's role is {was}, expected {wanted.last_role!r}")
    checks: tuple[tuple[str, TextMatcher | None, str | None], ...] = (
        ("tool_result.tool_call_id", wanted.tool_call_id, facts.tool_call_id),
        ("tool_result.name", wanted.tool_name, facts.tool_name),
        ("tool_result.content", wanted.tool_content, facts.tool_content),
    )
    for label, matcher, value in checks:
        reasons += text(label, matcher, value)
    if wanted.tools_called is not None:
        missing = [n for n in wanted.tools_called if n not in facts.tools_called]
        if missing:
            shown = ", ".join(dict.fromkeys(facts.tools_called)) or "none"
            reasons.append(
                f"tool(s) {', '.join(missing)} were not called earlier (called: {shown})"
            )
    return reasons


def request_turns(request: ChatRequest, norm: Normalize | None = None) -> Turns:
    """The facts of `request` (its `messages`; a legacy prompt request is turn 0); with `norm`,
    the last tool result's id and content normalised."""
    facts = turns_of(request.messages)
    if not norm:
        return facts
    return replace(
        facts,
        tool_call_id=normalize.text(facts.tool_call_id, norm) if facts.tool_call_id else None,
        tool_content=normalize.text(facts.tool_content, norm) if facts.tool_content else None,
    )


# --- the loop warning ---------------------------------------------------------------------------


def _calls_tool(step: object) -> tuple[str, ...]:
    if not isinstance(step, Reply):
        return ()
    choices = step.choices if step.choices is not None else (step.choice,)
    return tuple(call.name for choice in choices[:1] for call in choice.tool_calls)


def _follow_up(scenario: Scenario, names: tuple[str, ...]) -> Turns:
    """The facts of the request that carries the results of `names`, one assistant turn after
    the earliest turn the scenario matches."""
    wanted = scenario.match.turn
    first = wanted.turn.min if wanted is not None and wanted.turn and wanted.turn.min else 0
    call_id = "call_follow_up"
    return Turns(
        turn=first + 1,
        last_role="tool",
        tool_call_id=call_id,
        tool_name=names[-1],
        tool_content="",
        tools_called=names,
    )


def _follow_up_matches(scenario: Scenario, facts: Turns) -> bool:
    match = scenario.match
    if match.has_tool_result is False:
        return False
    if match.turn is None:
        return True
    # Text criteria on the result's id or content depend on what the tool returns: a scenario
    # that names them is telling the two requests apart.
    if any(
        m is not None and m.op != "absent"
        for m in (match.turn.tool_call_id, match.turn.tool_content)
    ):
        return False

    def lenient(label: str, matcher: TextMatcher | None, value: str | None) -> list[str]:
        if matcher is None or label != "tool_result.name":
            return []
        from .matching import text_holds

        return [] if text_holds(matcher, value) else [label]

    return not turn_reasons(match.turn, facts, lenient)


def loop_warnings(scenarios: Iterable[Scenario]) -> list[str]:
    """A warning per scenario that answers with a tool call and would match the follow-up
    request carrying that tool's result with a tool call again (an agent loop that never ends).
    Each names the scenario, where it was written, and the criteria that would tell them apart."""
    out: list[str] = []
    for scenario in scenarios:
        for index, step in enumerate(scenario.steps):
            names = _calls_tool(step)
            if not names or not _calls_tool(scenario.step(index + 1)):
                continue
            if _follow_up_matches(scenario, _follow_up(scenario, names)):
                out.append(
                    f"{scenario.source}: scenario {scenario.name!r} returns a call to "
                    f"{names[-1]!r} and would also match the request carrying that tool's "
                    "result (an agent loop that never ends); tell them apart with match: "
                    "turn, last_role, has_tool_result or tool_result"
                )
                break
    return out
