"""docs/scenarios.md: every ```yaml block loads, the broken example prints what the page shows,
every key, preset and template name is documented, and several examples do what the text says."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from wire import RawResponse, chat, request

from emulator import cli
from emulator.loader import check_unique, load_text, scenario_schema
from emulator.presets import PRESET_NAMES, error_preset
from emulator.scenario import Scenario
from emulator.templating import FAKER_METHODS, FILTERS, REQUEST_FIELDS
from emulator.testing import EmulatorServer

DOC = Path(__file__).parent.parent / "docs" / "scenarios.md"
TEXT = DOC.read_text(encoding="utf-8")
FENCE = re.compile(r"^```(?P<info>[^`\n]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    info: str
    body: str
    line: int  # 1-based line of the opening fence


def blocks(info: str) -> list[Block]:
    return [
        Block(m["info"].strip(), m["body"], TEXT.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(TEXT)
        if m["info"].strip() == info
    ]


YAML_BLOCKS = blocks("yaml")


def load_block(block: Block) -> list[Scenario]:
    return load_text(block.body, f"docs/scenarios.md:{block.line}")


EXAMPLES = {s.name: block.body for block in YAML_BLOCKS for s in load_block(block)}


def example(name: str) -> str:
    """The yaml block of the docs that defines scenario `name`."""
    return EXAMPLES[name]


def following(block: Block, info: str) -> Block:
    """The first block with `info` after `block`."""
    return next(b for b in blocks(info) if b.line > block.line)


# --- every example loads --------------------------------------------------------------------------


def test_the_page_has_yaml_examples() -> None:
    """The page has its examples in ```yaml blocks (a guard against a broken extractor)."""
    assert len(YAML_BLOCKS) >= 30


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=lambda b: f"line{b.line}")
def test_yaml_example_loads(block: Block) -> None:
    """Each ```yaml block is a complete scenario file that loads without a problem."""
    assert load_block(block)


def test_example_names_are_unique() -> None:
    """The examples' scenario names are unique, so all of them can be loaded together."""
    check_unique(s for block in YAML_BLOCKS for s in load_block(block))


def test_broken_example_prints_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The `yaml broken` block, validated as broken.yaml, prints the page's output and exits 1."""
    (broken,) = blocks("yaml broken")
    shown = following(broken, "text").body.splitlines()
    assert shown[0] == "$ chat-emulator validate broken.yaml"
    (tmp_path / "broken.yaml").write_text(broken.body)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", "broken.yaml"]) == 1
    assert capsys.readouterr().err.splitlines() == shown[1:]


# --- everything is documented ---------------------------------------------------------------------

SCHEMA = scenario_schema()["$defs"]
DOCUMENTED_DEFS = ("scenario", "match", "textMatcher", "reply", "errorReply", "fault", "toolCall")


@pytest.mark.parametrize(
    "key",
    sorted({key for d in DOCUMENTED_DEFS for key in SCHEMA[d]["properties"]}),
)
def test_every_schema_key_is_documented(key: str) -> None:
    """Every key of the scenario schema (outside the stream block) is named on the page."""
    assert f"`{key}`" in TEXT


@pytest.mark.parametrize(
    "value",
    [
        *SCHEMA["faultKind"]["enum"],
        *SCHEMA["scenario"]["properties"]["after_sequence"]["enum"],
        "stop",
        "length",
        "tool_calls",
        "content_filter",
        "error",
    ],
)
def test_every_enumerated_value_is_documented(value: str) -> None:
    """Every fault kind, after_sequence mode and finish reason is named on the page."""
    assert f"`{value}`" in TEXT


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_table_row_matches_the_preset(name: str) -> None:
    """The presets table gives each preset's real status and message."""
    row = re.search(rf"^\| `{name}` \| (\d+) \| `([^`]*)` \|", TEXT, re.MULTILINE)
    assert row is not None, f"no table row for preset {name}"
    preset = error_preset(name)
    assert (int(row[1]), row[2]) == (preset.status, preset.message)


@pytest.mark.parametrize(
    "name",
    [
        *(f"faker.{m}`" for m in FAKER_METHODS),
        *(f"request.{f}`" for f in REQUEST_FIELDS),
        *(f"| {f}`" for f in FILTERS),
    ],
)
def test_template_names_are_documented(name: str) -> None:
    """Every Faker method, request field and filter of the template language is on the page."""
    if name.startswith("faker."):
        assert f"`{name[len('faker.') :]}" in TEXT.split("faker.METHOD", 1)[1]
    else:
        assert f"`{name}" in TEXT


def test_library_is_listed() -> None:
    """The page links the scenario library's README."""
    assert "(../scenarios/README.md)" in TEXT and "(streaming.md)" in TEXT


# --- the examples do what the page says -----------------------------------------------------------


def content(response: RawResponse, index: int = 0) -> Any:
    assert response.status == 200, response.body
    return response.json()["choices"][index]["message"]["content"]


def served(server: EmulatorServer) -> list[str | None]:
    return [entry.scenario for entry in server.requests]


def say(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_priority_example(server: EmulatorServer) -> None:
    """The vip scenario wins for gold customers although catch-all was loaded first."""
    server.add(example("catch-all"))
    gold = {"model": "openai/gpt-4o", "messages": say("Hi")}
    assert content(request(server.url, body=gold, headers={"x-customer-tier": "gold"})) == (
        "priority answer"
    )
    assert content(chat(server.url)) == "general answer"


def test_rate_limited_then_ok_example(server: EmulatorServer) -> None:
    """The issue's retry example: a 429 with Retry-After, then the reply."""
    server.add(example("rate-limited-then-ok"))
    headers = {"x-test-case": "retry"}
    body = {"model": "openai/gpt-4o", "messages": say("Weather?")}
    first = request(server.url, body=body, headers=headers)
    assert first.status == 429 and first.headers["retry-after"] == "1"
    assert first.json() == {
        "error": {
            "code": 429,
            "message": "Rate limit exceeded",
            "metadata": {"error_type": "rate_limit_exceeded"},
        }
    }
    assert content(request(server.url, body=body, headers=headers)) == "It is sunny in Paris."


def test_cycle_example(server: EmulatorServer) -> None:
    """flaky-every-other-call alternates ok and a 500 forever."""
    server.add(example("flaky-every-other-call"))
    assert [chat(server.url).status for _ in range(4)] == [200, 500, 200, 500]


def test_fall_through_example(server: EmulatorServer) -> None:
    """first-call-only answers once, then steps aside for the default reply."""
    server.add(example("first-call-only"))
    hello = say("hello there")
    assert content(chat(server.url, messages=hello)) == "Welcome! This greeting is only sent once."
    assert content(chat(server.url, messages=hello)) != "Welcome! This greeting is only sent once."
    assert served(server) == ["first-call-only", None]


def test_echo_template_example(server: EmulatorServer) -> None:
    """The echo template reads the last user message, call number, name and model."""
    server.add(example("echo"))
    texts = [content(chat(server.url, messages=say("ping"))) for _ in range(2)]
    assert texts[1] == "You said: ping (call 2 of echo, model OPENAI/GPT-4O)"


def test_fake_customer_example_is_json(server: EmulatorServer) -> None:
    """The Faker template writes valid JSON with the offered tool names."""
    server.add(example("fake-customer"))
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    data = json.loads(content(chat(server.url, tools=[tool])))
    assert data["tools"] == ["lookup"] and "@" in data["email"] and data["customer"]


def test_tool_calls_example(server: EmulatorServer) -> None:
    """Generated, mapping and raw-string arguments, and a given id, as the page says."""
    server.add(example("two-tool-calls"))
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }
    choice = chat(server.url, tools=[weather]).json()["choices"][0]
    first, second, third = choice["message"]["tool_calls"]
    assert list(json.loads(first["function"]["arguments"])) == ["city"]
    assert first["id"].startswith("call_")
    assert second["id"] == "call_rome"
    assert second["function"]["arguments"] == '{"city":"Rome","unit":"c"}'
    assert third["function"]["arguments"] == '{"timezone": "Europe/Ro'
    assert choice["message"]["content"] == "Let me look that up."
    assert choice["finish_reason"] == "tool_calls"


def test_choices_example(server: EmulatorServer) -> None:
    """three-drafts sends its three choices, the third cut on length."""
    server.add(example("three-drafts"))
    choices = chat(server.url, n=3).json()["choices"]
    assert [(c["message"]["content"], c["finish_reason"]) for c in choices] == [
        ("Draft one.", "stop"),
        ("Draft two.", "stop"),
        ("Draft three, cut", "length"),
    ]


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("provider-died", 502, "Provider disconnected mid-stream"),
        ("provider-died-preset", 502, "Provider returned error"),
    ],
)
def test_choice_error_examples(server: EmulatorServer, name: str, code: int, message: str) -> None:
    """choice_error gives a 200 with finish_reason error and the error object on the choice."""
    server.add(example(name))
    response = chat(server.url)
    choice = response.json()["choices"][0]
    assert response.status == 200 and choice["finish_reason"] == "error"
    assert (choice["error"]["code"], choice["error"]["message"]) == (code, message)


def test_filtered_example(server: EmulatorServer) -> None:
    """finish_reason and native_finish_reason are sent as written."""
    server.add(example("filtered"))
    choice = chat(server.url).json()["choices"][0]
    assert (choice["finish_reason"], choice["native_finish_reason"]) == ("content_filter", "SAFETY")


def test_reporting_keys_example(server: EmulatorServer) -> None:
    """model, provider, usage (total = sum, extra keys kept) and system_fingerprint are reported."""
    server.add(example("routed-to-claude"))
    body = chat(server.url).json()
    assert (body["model"], body["provider"], body["system_fingerprint"]) == (
        "anthropic/claude-sonnet-4.5",
        "Anthropic",
        "fp_emulator",
    )
    usage = body["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (
        12,
        5,
        17,
    )
    assert usage["cost"] == 0.00042 and usage["is_byok"] is False
    details = usage["cost_details"]
    assert details["upstream_inference_prompt_cost"] + details[
        "upstream_inference_completions_cost"
    ] == pytest.approx(0.00042)


def test_error_override_example(server: EmulatorServer) -> None:
    """custom-rate-limit keeps the preset's 429 and overrides message and headers."""
    server.add(example("custom-rate-limit"))
    response = chat(server.url)
    assert response.status == 429
    assert response.json() == {
        "error": {
            "code": 429,
            "message": "Slow down",
            "metadata": {"error_type": "rate_limit_exceeded"},
        }
    }
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-ratelimit-remaining"] == "0"


def test_teapot_example(server: EmulatorServer) -> None:
    """A mapping error without preset sends its status, message and metadata."""
    server.add(example("teapot"))
    response = chat(server.url)
    assert response.status == 418
    assert response.json()["error"] == {
        "code": 418,
        "message": "I'm a teapot",
        "metadata": {"error_type": "invalid_request", "hint": "brew coffee elsewhere"},
    }


def test_broken_body_example(server: EmulatorServer) -> None:
    """malformed_json sends its body as written with a 200."""
    server.add(example("broken-body"))
    response = chat(server.url)
    assert response.status == 200
    assert response.body == b'{"id": "gen-1", "choices": [{"message": '


def test_strict_mode_example(server: EmulatorServer) -> None:
    """A strict server answers the page's request with exactly the page's 404 body."""
    (block,) = [b for b in YAML_BLOCKS if "name: claude-weather" in b.body]
    shown = json.loads(following(block, "json").body)
    server.add(example("claude-weather"))
    server.configure(strict=True)
    response = chat(server.url, model="openai/gpt-4o", messages=say("What is the meaning of life?"))
    assert response.status == 404 and response.headers["x-should-retry"] == "false"
    assert response.json() == shown


def test_strict_scenario_example(server: EmulatorServer) -> None:
    """A `strict: true` scenario refuses a request with an unknown parameter."""
    server.add(example("picky"))
    response = chat(server.url, shoe_size=42)
    assert response.status == 400
    assert response.json()["error"]["message"] == "shoe_size: unknown parameter (strict mode)"
