"""Normalisation before matching: each rewrite on its own, per scenario and server-wide, and the
option's parsing with its errors."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest

from emulator import normalize
from emulator.errors import ScenarioError
from emulator.loader import load_text
from emulator.testing import EmulatorServer

ALL = normalize.ALL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Hello \n\t world  ", "Hello world"),
        ('{"b": 1,  "a": {"d": 2, "c": 3}}', '{"a":{"c":3,"d":2},"b":1}'),
        ("id 123e4567-e89b-12d3-a456-426614174000 ok", "id <uuid> ok"),
        ("at 2026-11-30T15:12:42Z and 1735689600", "at <timestamp> and <timestamp>"),
        ("call call_AbC123xyz answered", "call <id> answered"),
        ("not json {", "not json {"),
    ],
)
def test_rewrites(text: str, expected: str) -> None:
    """Each rewrite does what the docs say."""
    assert normalize.text(text, ALL) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["spaces"], "unknown rewrite(s) 'spaces'; valid: whitespace, json, volatile"),
        ({"volatile": ["guid"]}, "unknown volatile pattern 'guid'; valid: uuid, timestamp, id"),
        ({"volatile": {"(": "<x>"}}, "bad volatile regex '('"),
    ],
)
def test_bad_options_are_named(value: object, message: str) -> None:
    """A wrong option raises ValueError naming it and the valid values."""
    with pytest.raises(ValueError) as info:
        normalize.parse(value)
    assert message in str(info.value)


def test_bad_option_in_a_file_is_a_file_line_error() -> None:
    """In a scenario file the same problem is a file:line error."""
    with pytest.raises(ScenarioError) as info:
        load_text("name: n\nnormalize: {volatile: [guid]}\nreply: {content: x}\n", "x.yaml")
    assert str(info.value) == (
        "x.yaml:2: normalize.volatile[0]: 'guid' is not valid; valid: uuid, timestamp, id"
    )


SCENARIO = """
name: greet
NORMALIZE
match: {last_user_message: "hello world", body: {messages: [{role: user, content: "hello world"}]}}
reply: {content: matched}
"""
SPACED = [{"role": "user", "content": "  hello \n world "}]


def ask(server: EmulatorServer) -> str:
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    reply = client.chat.completions.create(model="openai/gpt-4o", messages=SPACED)
    return reply.choices[0].message.content or ""


def test_without_normalisation_spacing_decides(server: EmulatorServer) -> None:
    """By default the spaced message does not match."""
    server.add(SCENARIO.replace("NORMALIZE", ""))
    assert ask(server) != "matched"


def test_scenario_normalisation_matches_through_the_sdk(server: EmulatorServer) -> None:
    """`normalize: [whitespace]` makes it match, body subset included."""
    server.add(SCENARIO.replace("NORMALIZE", "normalize: [whitespace]"))
    assert ask(server) == "matched"


def test_server_wide_normalisation(make_server: Callable[..., EmulatorServer]) -> None:
    """A server's normalisation applies to scenarios without their own; `false` opts out."""
    server = make_server(normalize=normalize.parse("whitespace"))
    server.add(SCENARIO.replace("NORMALIZE", ""))
    assert ask(server) == "matched"
    server.reset()
    server.add(SCENARIO.replace("NORMALIZE", "normalize: false"))
    assert ask(server) != "matched"


def test_json_key_order_in_tool_arguments(server: EmulatorServer) -> None:
    """Tool-call arguments in the history match whatever their key order."""
    server.add(
        """
name: args
normalize: [json]
match:
  body:
    messages:
      - {role: user, content: go}
      - role: assistant
        tool_calls: [{id: c1, type: function, function: {name: f, arguments: '{"a":1,"b":2}'}}]
      - {role: tool, tool_call_id: c1, content: done}
reply: {content: matched}
"""
    )
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    reply = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=[
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"b": 2, "a": 1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "done"},
        ],
    )
    assert reply.choices[0].message.content == "matched"


def test_cli_normalize_option() -> None:
    """serve --normalize takes comma-separated rewrites; a wrong one is an argparse error."""
    from emulator.cli import build_parser, config_from_args

    args = build_parser().parse_args(["serve", "--normalize", "whitespace,json"])
    assert config_from_args(args).normalize == normalize.Normalize(whitespace=True, json=True)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--normalize", "spaces"])
