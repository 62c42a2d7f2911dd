"""Scenario files → model: the format of issues 4 and 5, and a message with file:line for every
broken file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema stubs installed
import pytest

from emulator.errors import ScenarioError
from emulator.loader import (
    check_paths,
    check_unique,
    load_data,
    load_paths,
    load_text,
    scenario_schema,
)
from emulator.presets import PRESET_NAMES, error_preset
from emulator.scenario import (
    ChoiceSpec,
    Chunking,
    ErrorBody,
    ErrorReply,
    Fault,
    Framing,
    Interval,
    KeepAlive,
    RateLimit,
    Reply,
    SourceRef,
    StreamEvent,
    TextMatcher,
    ToolCallSpec,
)

REPLY_KEYS = (
    "annotations, body, choice_error, choices, content, delay_ms, finish_reason, headers, ids,"
    " images, model, native_finish_reason, provider, reasoning, reasoning_details, refusal,"
    " stream, system_fingerprint, tool_calls, usage"
)
STREAM_KEYS = (
    "chunking, chunks, disconnect_after, done, error, error_after, events, faults, framing, fuzz,"
    " interval_ms, keepalive, ttft_ms, usage_chunk"
)
KINDS = "reply, error, fault, sequence"

ISSUE_EXAMPLE = """\
scenarios:
  - name: rate-limited-then-ok
    description: First call is rate limited, the retry succeeds.
    priority: 10
    match:
      model: "openai/gpt-4o*"
      stream: true
      headers: {x-test-case: retry}
      last_user_message: {contains: "weather"}
      system_message: {regex: "(?i)terse"}
      any_message: {contains: "..."}
      tools: [get_weather]
      tool_choice: required
      has_tool_result: true
      response_format: json_schema
      body: {temperature: 0}
      api_key: sk-test-no-credits
    sequence:
      - error: {status: 429, message: "Rate limit exceeded", headers: {Retry-After: "1"}}
      - reply: {content: "It is sunny in Paris."}
    after_sequence: repeat_last
  - name: weather-tool
    match: {tools: [get_weather], has_tool_result: false}
    reply:
      tool_calls:
        - name: get_weather
        - name: get_weather
          arguments: {city: Rome}
  - name: answer
    reply:
      content: "You said: {{ request.last_user_message }}"
      model: anthropic/claude-sonnet-4.5
      provider: Anthropic
      finish_reason: stop
      native_finish_reason: end_turn
      usage: {prompt_tokens: 12, completion_tokens: 5}
      delay_ms: 250
"""

STREAM_EXAMPLE = r"""
name: streamed
reply:
  content: "Once upon a time"
  stream:
    chunking: {words: 3}
    chunks: ["Once", " upon", " a time"]
    ttft_ms: 400
    interval_ms: {min: 10, max: 60}
    keepalive: {text: "OPENROUTER PROCESSING", every_ms: 100}
    error_after: 3
    error: {code: 502, message: "Provider returned error", metadata: {provider_name: X, raw: "..."}}
    disconnect_after: 5
    done: false
    usage_chunk: openrouter
    events:
      - comment: "OPENROUTER PROCESSING"
      - wait_ms: 300
      - content: "Hel"
      - tool_call: {index: 0, id: call_1, name: get_weather, arguments: '{"ci'}
      - tool_call: {index: 0, arguments: 'ty":"Paris"}'}
      - raw: "data: {not json\n\n"
      - error: {code: 502, message: "upstream reset"}
      - error: provider_error
      - finish: stop
      - usage: {prompt_tokens: 10, completion_tokens: 2}
      - done: true
      - disconnect: true
    framing:
      line_ending: "\r\n"
      split_every: 7
      stall_after: 4
      stall_ms: 500
      duplicate_done: true
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the table of broken files ---------------------------------------------------------------

BROKEN = [
    pytest.param(
        "name: a\nreply:\n  content: hi\n  dealy_ms: 3\n",
        f"4: unknown key 'dealy_ms' in reply; valid keys: {REPLY_KEYS}",
        id="unknown-key",
    ),
    pytest.param(
        "name: a\nreply:\n  delay_ms: soon\n",
        "3: reply.delay_ms: expected a number, got a string ('soon')",
        id="wrong-type",
    ),
    pytest.param(
        "name: a\npriority: high\nreply: {}\n",
        "2: priority: expected an integer, got a string ('high')",
        id="wrong-type-integer",
    ),
    pytest.param(
        "name: a\nmatch:\n  last_user_message:\n    regex: '*oops'\nreply: {}\n",
        "4: match.last_user_message.regex: bad regex '*oops': no argument for repetition operator: *",
        id="bad-regex",
    ),
    pytest.param(
        "scenarios:\n  - name: same\n    reply: {}\n  - name: same\n    fault: reset\n",
        "4: duplicate scenario name 'same': also defined at {path}:2",
        id="duplicate-name",
    ),
    pytest.param(
        "name: a\nreply:\n  content: [unclosed\n",
        "4: YAML syntax error: did not find expected ',' or ']'"
        " (while parsing a flow sequence at line 3)",
        id="yaml-syntax",
    ),
    pytest.param(
        "name: a\nreply: {}\n  oops: 1\n",
        "3: YAML syntax error: did not find expected key (while parsing a block mapping at line 1)",
        id="yaml-indentation",
    ),
    pytest.param(
        "name: a\nerror: insuficient_credits\n",
        "2: error: unknown error preset 'insuficient_credits'; valid: " + ", ".join(PRESET_NAMES),
        id="unknown-preset",
    ),
    pytest.param(
        "name: a\nerror: {preset: rate_limit}\n",
        "2: error.preset: unknown error preset 'rate_limit'; valid: " + ", ".join(PRESET_NAMES),
        id="unknown-preset-in-mapping",
    ),
    pytest.param(
        "name: a\nreply:\n  content: 'Hi {{ reqest.model }}'\n",
        "3: reply.content: bad template: unknown name 'reqest' in {{ reqest.model }} at column 4;"
        " valid names: call_number, faker, request, scenario",
        id="bad-template",
    ),
    pytest.param(
        "name: a\nreply:\n  content: 'Hi {{ request.model'\n",
        "3: reply.content: bad template: unclosed '{{' at column 4; write {{ '{{' }} for a literal '{{'",
        id="unclosed-template",
    ),
    pytest.param(
        "name: a\nreply: {content: x}\nerror: timeout\n",
        f"3: scenario 'a' has both 'reply' and 'error'; give exactly one of: {KINDS}",
        id="two-response-kinds",
    ),
    pytest.param(
        "name: a\ndescription: nothing else\n",
        f"1: scenario 'a' has no response; give exactly one of: {KINDS}",
        id="no-response",
    ),
    pytest.param(
        "name: a\nsequence:\n  - reply: {}\n  - retry: {}\n",
        "4: unknown key 'retry' in sequence[1]; valid keys: error, fault, reply",
        id="sequence-item-unknown-kind",
    ),
    pytest.param(
        "name: a\nsequence:\n  - reply: {}\n    error: timeout\n",
        "3: sequence[0]: give exactly one of: error, fault, reply (got: error, reply)",
        id="sequence-item-two-kinds",
    ),
    pytest.param(
        "name: a\nreply:\n  stream:\n    chunkin: words\n",
        f"4: unknown key 'chunkin' in reply.stream; valid keys: {STREAM_KEYS}",
        id="bad-stream-key",
    ),
    pytest.param(
        "name: a\nreply:\n  stream:\n    events:\n      - content: a\n        done: true\n",
        "5: reply.stream.events[0]: give exactly one of: comment, content, data, disconnect, done,"
        " error, finish, raw, reasoning, refusal, tool_call, usage, wait_ms (got: content, done)",
        id="stream-event-two-keys",
    ),
    pytest.param(
        "name: a\nreply:\n  stream:\n    chunking: paragraphs\n",
        "4: reply.stream.chunking: unknown chunking 'paragraphs'; valid: words, chars, tokens,"
        " lines, none",
        id="bad-chunking",
    ),
    pytest.param(
        "name: a\nreply:\n  stream:\n    interval_ms: {min: 60, max: 10}\n",
        "4: reply.stream.interval_ms: min (60) is greater than max (10)",
        id="interval-min-above-max",
    ),
    pytest.param(
        "name: a\nfault: rest\n",
        "2: fault: unknown fault kind 'rest'; valid: reset, empty, hang, malformed_json, error_only",
        id="unknown-fault",
    ),
    pytest.param(
        "name: a\nfault: 3\n",
        "2: fault: expected a string or a mapping, got an integer (3)",
        id="fault-wrong-type",
    ),
    pytest.param(
        "name: a\nfault: {kind: reset, max_ms: 10}\n",
        "2: fault.max_ms only applies to kind hang, not reset",
        id="fault-option-of-other-kind",
    ),
    pytest.param(
        "name: a\nerror: {message: boom}\n",
        "2: missing required key 'status' in error (required unless 'preset' is given)",
        id="error-without-status",
    ),
    pytest.param(
        "name: a\nerror: {status: 200, message: ok}\n",
        "2: error.status: must be >= 400, got 200",
        id="error-status-not-an-error",
    ),
    pytest.param(
        "reply: {}\n",
        "1: missing required key 'name' in scenario",
        id="missing-name",
    ),
    pytest.param(
        "name: a\nmatch:\n  model: {regex: a, glob: b}\nreply: {}\n",
        "3: match.model: give exactly one of: absent, contains, equals, glob, regex (got: glob, regex)",
        id="two-operators",
    ),
    pytest.param(
        "name: a\nmatch:\n  response_format: xml\nreply: {}\n",
        "3: match.response_format: unknown response_format type 'xml'; valid: text, json_object,"
        " json_schema, json",
        id="bad-response-format",
    ),
    pytest.param(
        "name: a\nreply:\n  content: x\n  choices: [{content: y}]\n",
        "3: reply has both 'choices' and 'content'; put 'content' inside each item of 'choices'",
        id="choices-beside-content",
    ),
    pytest.param(
        "name: a\nreply: {}\nname: b\n",
        "3: duplicate key 'name' (first at line 1)",
        id="duplicate-key",
    ),
    pytest.param(
        "- name: a\n",
        "1: expected a mapping (a scenario with 'name', or 'scenarios: [...]'), got a list",
        id="not-a-mapping",
    ),
    pytest.param(
        "",
        "1: empty file: expected a scenario (a mapping with 'name') or 'scenarios: [...]'",
        id="empty-file",
    ),
    pytest.param(
        "name: !!python/object/apply:os.system [echo]\nreply: {}\n",
        "1: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system';"
        " use mappings, lists and scalars",
        id="python-tag",
    ),
    pytest.param(
        "name: a\nreply: {delay_ms: .inf}\n",
        "2: non-finite number '.inf' is not allowed",
        id="infinite-number",
    ),
    pytest.param(
        "name: a\nreply: {content: x, stream: {ttft_ms: " + "9" * 400 + "}}\n",
        "2: number 99999999999999999999... (400 characters) is too large (beyond 1.8e308)",
        id="integer-beyond-a-double",
    ),
    pytest.param(
        "name: a\nchaos: {bursts: [{fault: error, count: 1, every_ms: " + "9" * 5000 + "}]}\n"
        "reply: {content: x}\n",
        "2: number 99999999999999999999... (5000 characters) is too large",
        id="integer-of-5000-digits",
    ),
    pytest.param(
        "scenarios:\n  - name: a\n    reply: {}\nextra: 1\n",
        "4: unknown key 'extra' in file; valid keys: scenarios",
        id="unknown-file-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_file_gives_exact_message(tmp_path: Path, text: str, expected: str) -> None:
    """Each broken file fails with `file:line: message`, the line of the offending key or value."""
    path = write(tmp_path, "broken.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_paths([path])
    assert str(info.value) == f"{path}:" + expected.replace("{path}", str(path))


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_check_paths_reports_the_same_first_message(
    tmp_path: Path, text: str, expected: str
) -> None:
    """`check_paths` (chat-emulator validate) reports the same problem as loading does."""
    path = write(tmp_path, "broken.yaml", text)
    problems = check_paths([path])
    assert problems[0] == f"{path}:" + expected.replace("{path}", str(path))


# --- valid files --------------------------------------------------------------------------


def test_issue_example_loads() -> None:
    """The example of issue 4 loads into the model with every key in place."""
    first, tool, answer = load_text(ISSUE_EXAMPLE, "example.yaml")
    assert first.name == "rate-limited-then-ok"
    assert first.priority == 10 and first.after_sequence == "repeat_last"
    assert first.source == SourceRef("example.yaml", 2)
    m = first.match
    assert m.model == TextMatcher("glob", "openai/gpt-4o*")
    assert m.stream is True
    assert m.headers == (("x-test-case", TextMatcher("equals", "retry")),)
    assert m.last_user_message == TextMatcher("contains", "weather")
    assert m.system_message == TextMatcher("regex", "(?i)terse")
    assert m.any_message == TextMatcher("contains", "...")
    assert m.tools == ("get_weather",)
    assert (m.tool_choice, m.has_tool_result, m.response_format) == (
        "required",
        True,
        "json_schema",
    )
    assert m.body == {"temperature": 0}
    assert m.api_key == TextMatcher("equals", "sk-test-no-credits")
    assert first.steps == (
        ErrorReply(429, "Rate limit exceeded", headers={"Retry-After": "1"}),
        Reply(choice=ChoiceSpec(content="It is sunny in Paris.")),
    )
    assert tool.steps == (
        Reply(
            choice=ChoiceSpec(
                tool_calls=(
                    ToolCallSpec("get_weather"),
                    ToolCallSpec("get_weather", {"city": "Rome"}),
                )
            )
        ),
    )
    assert answer.steps == (
        Reply(
            choice=ChoiceSpec(
                content="You said: {{ request.last_user_message }}",
                finish_reason="stop",
                native_finish_reason="end_turn",
            ),
            model="anthropic/claude-sonnet-4.5",
            provider="Anthropic",
            usage={"prompt_tokens": 12, "completion_tokens": 5},
            delay_ms=250.0,
        ),
    )


def test_stream_block_parses_every_key() -> None:
    """Every key of issue 5's stream block lands in StreamSpec."""
    (scenario,) = load_text(STREAM_EXAMPLE)
    reply = scenario.steps[0]
    assert isinstance(reply, Reply) and reply.stream is not None
    s = reply.stream
    assert s.chunking == Chunking("words", 3)
    assert s.chunks == ("Once", " upon", " a time")
    assert s.ttft_ms == 400.0
    assert s.interval == Interval(min_ms=10.0, max_ms=60.0)
    assert s.keepalive == KeepAlive("OPENROUTER PROCESSING", 100.0)
    assert (s.error_after, s.disconnect_after, s.done, s.usage_chunk) == (3, 5, False, "openrouter")
    assert s.error == ErrorBody(
        502, "Provider returned error", {"provider_name": "X", "raw": "..."}
    )
    assert s.framing == Framing("\r\n", 7, 4, 500.0, True)
    assert s.events is not None
    assert [e.kind for e in s.events] == [
        "comment", "wait_ms", "content", "tool_call", "tool_call", "raw", "error", "error",
        "finish", "usage", "done", "disconnect",
    ]  # fmt: skip
    assert s.events[1] == StreamEvent("wait_ms", 300.0)
    assert s.events[3].value == {
        "index": 0,
        "id": "call_1",
        "name": "get_weather",
        "arguments": '{"ci',
    }
    assert s.events[4].value == {"index": 0, "id": None, "name": None, "arguments": 'ty":"Paris"}'}
    assert s.events[5] == StreamEvent("raw", "data: {not json\n\n")
    assert s.events[6] == StreamEvent("error", ErrorBody(502, "upstream reset"))
    assert s.events[7].value.code == 502 and s.events[7].value.message == "Provider returned error"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("interval_ms: 25", Interval(ms=25.0)),
        ("interval_ms: [10, 20, 30]", Interval(per_chunk=(10.0, 20.0, 30.0))),
        ("chunking: chars", Chunking("chars", 1)),
        ("chunking: {tokens: 2}", Chunking("tokens", 2)),
        ("chunking: none", Chunking("none", 1)),
    ],
)
def test_stream_shorthands(text: str, expected: object) -> None:
    """interval_ms and chunking take each of their documented forms."""
    (scenario,) = load_text(f"name: a\nreply:\n  stream:\n    {text}\n")
    reply = scenario.steps[0]
    assert isinstance(reply, Reply) and reply.stream is not None
    assert expected in (reply.stream.interval, reply.stream.chunking)


def test_error_preset_string_and_overrides() -> None:
    """`error: NAME` is the preset; a mapping with `preset` overrides keys and merges headers."""
    plain, custom = load_text(
        "scenarios:\n"
        "  - {name: a, error: rate_limited}\n"
        "  - name: b\n"
        "    error: {preset: rate_limited, message: slow down, headers: {X-Extra: 2}, delay_ms: 5}\n"
    )
    assert plain.steps == (error_preset("rate_limited"),)
    assert custom.steps == (
        ErrorReply(
            429,
            "slow down",
            headers={"Retry-After": "1", "X-Extra": "2"},
            delay_ms=5.0,
            preset="rate_limited",
            rate_limit=RateLimit(20, 0, 60_000),
        ),
    )


def test_choice_error_and_choices() -> None:
    """`choice_error` takes a preset or an object; `choices` lists per-choice replies."""
    (scenario,) = load_text(
        "name: a\nreply:\n  choices:\n"
        "    - {content: one, choice_error: provider_error}\n"
        "    - {content: two, choice_error: {code: 502, message: gone}, finish_reason: error}\n"
    )
    reply = scenario.steps[0]
    assert isinstance(reply, Reply) and reply.choices is not None
    first, second = reply.choices
    assert first.choice_error is not None and first.choice_error.code == 502
    assert second == ChoiceSpec(
        content="two", finish_reason="error", choice_error=ErrorBody(502, "gone")
    )


def test_faults_as_string_and_mapping() -> None:
    """`fault: reset` and `fault: {kind: hang, max_ms: ...}` both load."""
    loaded = load_text(
        "scenarios:\n  - {name: a, fault: reset}\n  - {name: b, fault: {kind: hang, max_ms: 50}}\n"
        "  - {name: c, fault: {kind: malformed_json, body: '{\"a\": '}}\n"
    )
    assert [s.steps for s in loaded] == [
        (Fault("reset"),),
        (Fault("hang", max_ms=50.0),),
        (Fault("malformed_json", body='{"a": '),),
    ]


def test_tool_call_arguments_may_be_a_raw_string() -> None:
    """Tool call arguments are a mapping or a raw string, sent as is."""
    (scenario,) = load_text(
        "name: a\nreply:\n  tool_calls:\n    - {name: f, arguments: '{\"x\": 1', id: call_x}\n"
    )
    reply = scenario.steps[0]
    assert isinstance(reply, Reply)
    assert reply.choice.tool_calls == (ToolCallSpec("f", '{"x": 1', "call_x"),)


def test_yaml_keeps_keys_and_timestamps_as_text() -> None:
    """Keys are always text (`on` stays "on") and timestamps stay text inside free-form data."""
    (scenario,) = load_text("name: a\nmatch:\n  body: {on: 2024-01-01, 'n': 1}\nreply: {}\n")
    assert scenario.match.body == {"on": "2024-01-01", "n": 1}


def test_yaml_merge_keys_work() -> None:
    """YAML anchors and `<<` merge keys are resolved like any safe loader would."""
    loaded = load_text(
        "scenarios:\n  - &base\n    name: a\n    reply: {content: x}\n  - <<: *base\n    name: b\n"
    )
    assert [s.name for s in loaded] == ["a", "b"]
    assert loaded[1].steps == loaded[0].steps


def test_recursive_alias_is_rejected() -> None:
    """A value that contains itself is an error with its line, not a hang."""
    with pytest.raises(ScenarioError, match=r"^x:3: recursive alias"):
        load_text("name: a\nreply: {}\nmatch: {body: &x {a: [*x]}}\n", "x")


def test_json_file_loads_with_lines(tmp_path: Path) -> None:
    """`*.json` files load too, and their errors carry lines."""
    good = write(tmp_path, "a.json", json.dumps({"name": "a", "reply": {"delay_ms": 1e3}}))
    assert load_paths([good])[0].steps == (Reply(delay_ms=1000.0),)
    bad = write(tmp_path, "b.json", '{\n  "name": "b",\n  "reply": {"dealy_ms": 1}\n}\n')
    with pytest.raises(ScenarioError, match=rf"^{bad}:3: unknown key 'dealy_ms' in reply"):
        load_paths([bad])


def test_directory_loads_in_name_order(tmp_path: Path) -> None:
    """A directory loads its yaml/yml/json files in name order, skipping other and hidden files."""
    write(tmp_path, "b.yml", "name: second\nreply: {}\n")
    write(tmp_path, "a.yaml", "name: first\nreply: {}\n")
    write(tmp_path, "c.json", '{"name": "third", "fault": "empty"}')
    write(tmp_path, "notes.txt", "not a scenario")
    write(tmp_path, ".#a.yaml", "broken: [")
    assert [s.name for s in load_paths([tmp_path])] == ["first", "second", "third"]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    """A path that does not exist is a ScenarioError naming it."""
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_paths([missing])
    assert str(info.value) == f"{missing}: no such file or directory"


def test_duplicate_across_files_names_both(tmp_path: Path) -> None:
    """The same name in two files of one load names both places."""
    a = write(tmp_path, "a.yaml", "name: same\nreply: {}\n")
    b = write(tmp_path, "b.yaml", "description: x\nname: same\nreply: {}\n")
    with pytest.raises(ScenarioError) as info:
        load_paths([a, b])
    assert str(info.value) == f"{b}:1: duplicate scenario name 'same': also defined at {a}:1"


def test_nothing_half_loads(tmp_path: Path) -> None:
    """One broken file fails the whole call, even after good files."""
    write(tmp_path, "a.yaml", "name: good\nreply: {}\n")
    write(tmp_path, "b.yaml", "name: bad\nreply: {dealy_ms: 1}\n")
    with pytest.raises(ScenarioError, match=r"b\.yaml:2: unknown key 'dealy_ms'"):
        load_paths([tmp_path])


def test_check_paths_collects_every_problem(tmp_path: Path) -> None:
    """check_paths reports all schema problems of each file, and problems of every file."""
    a = write(tmp_path, "a.yaml", "name: a\nreply:\n  dealy_ms: 1\n  model: 3\n")
    b = write(tmp_path, "b.yaml", "name: a\nreply: {}\n")
    missing = tmp_path / "gone"
    assert check_paths([tmp_path, missing]) == [
        f"{a}:3: unknown key 'dealy_ms' in reply; valid keys: {REPLY_KEYS}",
        f"{a}:4: reply.model: expected a string, got an integer (3)",
        f"{missing}: no such file or directory",
    ]
    write(tmp_path, "a.yaml", "name: a\nreply: {}\n")
    assert check_paths([tmp_path]) == [f"{b}:1: duplicate scenario name 'a': also defined at {a}:1"]


def test_check_unique_against_loaded() -> None:
    """check_unique compares new scenarios with already-loaded ones."""
    old = load_text("name: a\nreply: {}\n", "old.yaml")
    new = load_text("name: a\nfault: reset\n", "new.yaml")
    with pytest.raises(
        ScenarioError,
        match=r"^new.yaml:1: duplicate scenario name 'a': also defined at old.yaml:1$",
    ):
        check_unique(new, old)


def test_load_data_accepts_dicts_and_lists() -> None:
    """Python dicts load like files; errors name the source without a line."""
    one = load_data({"name": "a", "reply": {"content": "hi"}})
    many = load_data([{"name": "b", "fault": "reset"}, {"name": "c", "error": "timeout"}])
    assert [s.name for s in one + many] == ["a", "b", "c"]
    assert one[0].source == SourceRef("<dict>")
    with pytest.raises(ScenarioError) as info:
        load_data({"name": "x", "reply": {"dealy_ms": 1}}, "fixture")
    assert str(info.value) == f"fixture: unknown key 'dealy_ms' in reply; valid keys: {REPLY_KEYS}"


def test_load_data_copies_its_input() -> None:
    """Mutating the dict after loading does not change the loaded scenario."""
    data: dict[str, Any] = {"name": "a", "match": {"body": {"x": [1]}}, "reply": {}}
    (scenario,) = load_data(data)
    data["match"]["body"]["x"].append(2)
    assert scenario.match.body == {"x": [1]}


# --- the schema itself ---------------------------------------------------------------------


def _objects(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            found += _objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _objects(value, f"{path}/{i}")
    return found


def test_schema_is_valid_draft_2020_12() -> None:
    """scenario.schema.json is a valid draft 2020-12 schema, read as a package resource."""
    schema = scenario_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_closes_every_object_and_describes_every_property() -> None:
    """Every object with properties forbids unknown keys, and every property has a description."""
    schema = scenario_schema()
    for path, node in _objects(schema):
        assert node.get("additionalProperties") is False, path
        for name, prop in node["properties"].items():
            assert prop.get("description"), f"{path}/properties/{name}"


def test_schema_lists_every_preset() -> None:
    """The schema's preset names are exactly the presets the loader knows."""
    assert scenario_schema()["$defs"]["presetName"]["enum"] == list(PRESET_NAMES)


def test_schema_accepts_the_issue_examples() -> None:
    """The issue's examples are valid against the schema on their own (e.g. for editors)."""
    import yaml  # type: ignore[import-untyped]  # no stubs installed

    validator = jsonschema.Draft202012Validator(scenario_schema())
    for text in (ISSUE_EXAMPLE, STREAM_EXAMPLE):
        assert list(validator.iter_errors(yaml.safe_load(text))) == []
