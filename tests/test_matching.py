"""match_request: every criterion, every operator, and a readable reason for each failure."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.chatrequest import ChatRequest
from emulator.matching import MatchResult, match_request, subset_reasons
from emulator.scenario import Match, TextMatcher


def request(
    headers: dict[str, str] | None = None, api_key: str | None = None, **body: Any
) -> ChatRequest:
    body.setdefault("model", "openai/gpt-4o")
    body.setdefault("messages", [{"role": "user", "content": "hello"}])
    return ChatRequest(body=body, headers=headers or {}, api_key=api_key)


def reasons(match: Match, req: ChatRequest) -> tuple[str, ...]:
    result = match_request(match, req)
    assert result.ok is (not result.reasons)
    return result.reasons


def test_empty_match_matches_everything() -> None:
    """A scenario without criteria matches any request."""
    assert match_request(Match(), request()) == MatchResult(True, ())


@pytest.mark.parametrize(
    ("matcher", "ok"),
    [
        (TextMatcher("glob", "openai/*"), True),
        (TextMatcher("glob", "OpenAI/*"), False),  # case-sensitive
        (TextMatcher("glob", "openai/gpt-4o"), True),
        (TextMatcher("glob", "openai/gpt-4"), False),  # whole string
        (TextMatcher("equals", "openai/gpt-4o"), True),
        (TextMatcher("contains", "gpt"), True),
        (TextMatcher("regex", r"gpt-\d"), True),  # re.search, not fullmatch
        (TextMatcher("regex", r"^gpt"), False),
        (TextMatcher("absent"), False),
    ],
)
def test_model_operators(matcher: TextMatcher, ok: bool) -> None:
    """Each text operator applied to the model."""
    assert match_request(Match(model=matcher), request()).ok is ok


def test_glob_reason() -> None:
    """A failed glob names the pattern and the value seen."""
    assert reasons(Match(model=TextMatcher("glob", "anthropic/*")), request()) == (
        "model does not match glob 'anthropic/*' (was: 'openai/gpt-4o')",
    )


def test_contains_reason_truncates_long_values() -> None:
    """Long request text is cut to keep each reason on one line."""
    long = "hello " * 30
    req = request(messages=[{"role": "user", "content": long}])
    (reason,) = reasons(Match(last_user_message=TextMatcher("contains", "weather")), req)
    assert reason == f"last_user_message does not contain 'weather' (was: {long[:57] + '...'!r})"


def test_missing_value_fails_all_but_absent() -> None:
    """A missing system message fails `contains`, and satisfies `absent`."""
    req = request()
    assert reasons(Match(system_message=TextMatcher("contains", "terse")), req) == (
        "system_message is missing, expected to contain 'terse'",
    )
    assert match_request(Match(system_message=TextMatcher("absent")), req).ok


def test_absent_fails_when_present() -> None:
    """`absent` fails when the value is there, and says what it was."""
    req = request(
        messages=[{"role": "system", "content": "Be terse."}, {"role": "user", "content": "x"}]
    )
    assert reasons(Match(system_message=TextMatcher("absent")), req) == (
        "system_message is present (was: 'Be terse.'), expected absent",
    )


def test_all_failures_are_collected() -> None:
    """Every failing criterion contributes its reason, in a fixed order."""
    match = Match(
        model=TextMatcher("glob", "anthropic/*"),
        stream=True,
        tools=("get_weather",),
        tool_choice="required",
        has_tool_result=True,
        response_format="json_schema",
    )
    assert reasons(match, request()) == (
        "model does not match glob 'anthropic/*' (was: 'openai/gpt-4o')",
        "stream is false, expected true",
        "the request does not offer tool(s) get_weather (offered: none)",
        "tool_choice is absent, expected 'required'",
        "the last message is not a tool result",
        "response_format is 'text', expected 'json_schema'",
    )


def test_headers_are_case_insensitive() -> None:
    """Header names match regardless of case; values use the operator."""
    req = request(headers={"x-test-case": "retry"})
    assert match_request(Match(headers=(("X-Test-Case", TextMatcher("equals", "retry")),)), req).ok
    assert reasons(Match(headers=(("x-test-case", TextMatcher("equals", "other")),)), req) == (
        "header 'x-test-case' does not equal 'other' (was: 'retry')",
    )
    assert reasons(Match(headers=(("x-missing", TextMatcher("absent")),)), req) == ()


def test_any_message() -> None:
    """any_message holds when one message's text satisfies the operator."""
    req = request(
        messages=[
            {"role": "system", "content": "You forecast weather."},
            {"role": "user", "content": [{"type": "text", "text": "Rome?"}]},
        ]
    )
    assert match_request(Match(any_message=TextMatcher("contains", "Rome")), req).ok
    assert reasons(Match(any_message=TextMatcher("regex", "Paris")), req) == (
        "no message matches regex 'Paris' (2 message(s))",
    )


def test_tools_are_a_subset() -> None:
    """`tools` requires at least the named tools to be offered."""
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
    other = {"type": "function", "function": {"name": "get_time", "parameters": {}}}
    req = request(tools=[tool, other])
    assert match_request(Match(tools=("get_weather",)), req).ok
    assert reasons(Match(tools=("get_weather", "send_mail")), req) == (
        "the request does not offer tool(s) send_mail (offered: get_weather, get_time)",
    )


def test_tool_choice_and_tool_result() -> None:
    """tool_choice compares the request's value (a forced function by name); tool results count."""
    req = request(
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        messages=[
            {"role": "user", "content": "weather?"},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
    )
    assert match_request(Match(tool_choice="get_weather", has_tool_result=True), req).ok
    assert reasons(Match(has_tool_result=False), req) == ("the last message is a tool result",)


def test_response_format_text_matches_no_response_format() -> None:
    """A request without response_format counts as text."""
    assert match_request(Match(response_format="text"), request()).ok
    req = request(response_format={"type": "json_object"})
    assert reasons(Match(response_format="json_schema"), req) == (
        "response_format is 'json_object', expected 'json_schema'",
    )


def test_api_key_is_shown_masked() -> None:
    """A failed api_key match shows only a prefix of the key the client sent."""
    req = request(api_key="sk-or-v1-secretsecret")
    assert match_request(Match(api_key=TextMatcher("equals", "sk-or-v1-secretsecret")), req).ok
    assert reasons(Match(api_key=TextMatcher("equals", "sk-test")), req) == (
        "api_key does not equal 'sk-test' (was: 'sk-or-v1...')",
    )


@pytest.mark.parametrize(
    ("expected", "body", "why"),
    [
        ({"temperature": 0}, {"temperature": 0}, []),
        ({"temperature": 0}, {"temperature": 0.0}, []),
        ({"temperature": 0}, {"temperature": 0.7}, ["body.temperature is 0.7, expected 0"]),
        ({"temperature": 0}, {}, ["body.temperature is missing, expected 0"]),
        ({"stream": True}, {"stream": 1}, ["body.stream is 1, expected True"]),
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, []),
        ({"a": {"b": 1}}, {"a": "x"}, ["body.a is 'x', expected a mapping"]),
        ({"stop": ["x"]}, {"stop": ["x", "y"]}, ["body.stop is ['x', 'y'], expected ['x']"]),
        ({"l": [{"a": 1}]}, {"l": [{"a": 1, "b": 2}]}, []),
        ({"l": [{"a": 1}]}, {"l": [{"a": 2}]}, ["body.l[0].a is 2, expected 1"]),
    ],
)
def test_body_subset_rules(expected: dict[str, Any], body: dict[str, Any], why: list[str]) -> None:
    """Mappings are subsets, lists equal item by item, scalars equal, booleans never numbers."""
    assert subset_reasons(expected, body) == why


def test_body_match_in_match_request() -> None:
    """The body criterion feeds match_request's reasons."""
    req = request(temperature=0.5)
    assert reasons(Match(body={"temperature": 0}), req) == ("body.temperature is 0.5, expected 0",)


def test_stream_flag() -> None:
    """stream matches the request's stream flag."""
    assert match_request(Match(stream=True), request(stream=True)).ok
    assert reasons(Match(stream=False), request(stream=True)) == ("stream is true, expected false",)
