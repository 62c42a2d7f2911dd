"""Scenario files as the official openai SDK sees them: retries, error presets, tool calls,
structured output, n choices, choice errors, faults, strict mode, templating, determinism,
matching and tool_choice (the tests issue 4 asks for)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any, Literal

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema stubs installed
import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel
from wire import chat

from emulator.testing import EmulatorServer

MODEL = "openai/gpt-4o"
USER = [{"role": "user", "content": "What is the weather in Paris?"}]
FAST = {"retry-after-ms": "10"}  # the SDK reads this before Retry-After: 10 ms retry waits
OK = {"reply": {"content": "ok"}}

CREDITS = (
    "This request requires more credits, or fewer max_tokens. You requested up to 32000 tokens,"
    " but can only afford 27342. To increase, visit https://openrouter.ai/settings/credits and"
    " upgrade to a paid account"
)
MODERATION = (
    "anthropic/claude-3.5-sonnet requires moderation on OpenAI. Your input was flagged for"
    ' "harassment". No credits were charged.'
)
NO_PROVIDER = (
    "No endpoints found matching your data policy (Free model publication)."
    " Configure: https://openrouter.ai/settings/privacy"
)


@functools.cache
def _plain_client(base_url: str, api_key: str) -> OpenAI:
    # Building a client costs ~70 ms (TLS context); the plain one is shared by every test.
    return OpenAI(base_url=base_url, api_key=api_key, max_retries=0)


def sdk(server: EmulatorServer, **options: Any) -> OpenAI:
    """A client of `server` with `options` (default: no retries)."""
    if not options:
        return _plain_client(server.base_url, server.api_key)
    options.setdefault("max_retries", 0)
    return OpenAI(base_url=server.base_url, api_key=server.api_key, **options)


def create(server: EmulatorServer, client: OpenAI | None = None, **params: Any) -> Any:
    params.setdefault("model", MODEL)
    params.setdefault("messages", USER)
    return (client or sdk(server)).chat.completions.create(**params)


def statuses(server: EmulatorServer) -> list[int | None]:
    return [entry.status for entry in server.requests]


def parse_method(client: OpenAI) -> Callable[..., Any]:
    """The SDK's structured-output helper: chat.completions.parse, or beta's in older SDKs."""
    completions = client.chat.completions
    if hasattr(completions, "parse"):
        return completions.parse  # type: ignore[no-any-return]
    return client.beta.chat.completions.parse  # type: ignore[attr-defined,no-any-return]


# --- retries, observed by the SDK's own retry logic -----------------------------------------------

RETRY_CASES = [
    pytest.param(
        [{"error": {"preset": "rate_limited", "headers": FAST}}, OK],
        [429, 200],
        None,
        id="429-then-200",
    ),
    pytest.param(
        [{"error": {"preset": "timeout", "headers": FAST}}, OK],
        [408, 200],
        None,
        id="408-then-200",
    ),
    pytest.param(
        [
            {"error": {"preset": "server_error", "headers": FAST}},
            {"error": {"preset": "overloaded", "headers": FAST}},
            OK,
        ],
        [500, 529, 200],
        None,
        id="500-529-then-200",
    ),
    pytest.param(
        [{"error": {"preset": "rate_limited", "headers": FAST}}],
        [429, 429, 429],
        openai.RateLimitError,
        id="429-until-the-sdk-gives-up",
    ),
    pytest.param(
        [{"error": "insufficient_credits"}, OK],
        [402],
        openai.APIStatusError,
        id="402-not-retried",
    ),
    pytest.param(
        [{"error": {"preset": "no_provider", "headers": {"x-should-retry": "false"}}}, OK],
        [503],
        openai.InternalServerError,
        id="x-should-retry-false",
    ),
    pytest.param(
        [{"error": {"preset": "bad_request", "headers": {"x-should-retry": "true", **FAST}}}, OK],
        [400, 200],
        None,
        id="x-should-retry-true",
    ),
    pytest.param([{"fault": "reset"}, OK], [None, 200], None, id="reset-then-200"),
]


@pytest.mark.parametrize(("steps", "expected", "raises"), RETRY_CASES)
def test_retry_sequences(
    server: EmulatorServer,
    steps: list[dict[str, Any]],
    expected: list[int | None],
    raises: type[Exception] | None,
) -> None:
    """A sequence meets the SDK's retry rules (max_retries=2): the journal shows every attempt."""
    server.add({"name": "retry", "sequence": steps})
    client = sdk(server, max_retries=2)
    if raises is None:
        assert create(server, client).choices[0].message.content == "ok"
    else:
        with pytest.raises(raises):
            create(server, client)
    assert statuses(server) == expected
    assert [e.call_number for e in server.requests] == list(range(1, len(expected) + 1))


# --- every error preset ---------------------------------------------------------------------------

PRESETS = [
    ("bad_request", 400, openai.BadRequestError, "Invalid request parameters"),
    ("model_not_found", 400, openai.BadRequestError, "acme/not-a-model is not a valid model ID"),
    ("unauthorized", 401, openai.AuthenticationError, "User not found."),
    ("invalid_api_key", 401, openai.AuthenticationError, "User not found."),
    ("no_auth", 401, openai.AuthenticationError, "No auth credentials found"),
    ("insufficient_credits", 402, openai.APIStatusError, CREDITS),
    ("moderation", 403, openai.PermissionDeniedError, MODERATION),
    ("not_found", 404, openai.NotFoundError, "No endpoints found for acme/not-a-model."),
    ("timeout", 408, openai.APIStatusError, "Operation timed out. Please try again later."),
    ("rate_limited", 429, openai.RateLimitError, "Rate limit exceeded"),
    ("rate_limited_upstream", 429, openai.RateLimitError, "Provider returned error"),
    ("server_error", 500, openai.InternalServerError, "Internal Server Error"),
    ("provider_error", 502, openai.InternalServerError, "Provider returned error"),
    ("no_provider", 503, openai.InternalServerError, NO_PROVIDER),
    ("overloaded", 529, openai.InternalServerError, "Provider returned error"),
]


@pytest.mark.parametrize(
    ("preset", "status", "cls", "message"), PRESETS, ids=[p[0] for p in PRESETS]
)
def test_error_preset_raises_the_sdk_class(
    server: EmulatorServer, preset: str, status: int, cls: type[Exception], message: str
) -> None:
    """`error: <preset>` raises exactly the SDK's class for its status, with the right message."""
    server.add({"name": preset, "error": preset})
    with pytest.raises(cls) as caught:
        create(server)
    error = caught.value
    assert type(error) is cls
    assert isinstance(error, openai.APIStatusError) and error.status_code == status
    assert str(error) == f"Error code: {status} - {message}"
    assert error.message == str(error)
    assert isinstance(error.body, dict) and error.body["code"] == status
    assert error.body["message"] == message
    assert statuses(server) == [status]


PRESET_METADATA = [
    ("insufficient_credits", {"error_type": "payment_required"}, {}),
    (
        "moderation",
        {
            "error_type": "content_policy_violation",
            "reasons": ["harassment"],
            "flagged_input": "you are a...idiot",
            "provider_name": "OpenAI",
            "model_slug": "anthropic/claude-3.5-sonnet",
        },
        {},
    ),
    (
        "rate_limited",
        {"error_type": "rate_limit_exceeded"},
        {"retry-after": "1", "x-ratelimit-limit": "20", "x-ratelimit-remaining": "0"},
    ),
    ("provider_error", {"error_type": "provider_unavailable", "provider_code": "INTERNAL"}, {}),
    (
        "rate_limited_upstream",
        {"error_type": "rate_limit_exceeded", "provider_code": "rate_limited"},
        {"retry-after": "1"},
    ),
]


@pytest.mark.parametrize(
    ("preset", "metadata", "headers"), PRESET_METADATA, ids=[p[0] for p in PRESET_METADATA]
)
def test_error_preset_metadata_and_headers(
    server: EmulatorServer, preset: str, metadata: dict[str, Any] | None, headers: dict[str, str]
) -> None:
    """Presets carry the router's metadata (and Retry-After for 429s) to `error.body`."""
    server.add({"name": preset, "error": preset})
    with pytest.raises(openai.APIStatusError) as caught:
        create(server)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["metadata"] == metadata
    for name, value in headers.items():
        assert caught.value.response.headers[name] == value


def test_error_mapping_overrides_a_preset(server: EmulatorServer) -> None:
    """`{preset, message, metadata, headers}` keeps the preset's status and overrides the rest."""
    server.add("""
name: custom-429
error:
  preset: rate_limited
  message: Slow down
  metadata: {limit: 10}
  headers: {Retry-After: "7", X-RateLimit-Remaining: "0"}
""")
    with pytest.raises(openai.RateLimitError, match=r"^Error code: 429 - Slow down$") as caught:
        create(server)
    assert caught.value.body == {
        "code": 429,
        "message": "Slow down",
        "metadata": {"error_type": "rate_limit_exceeded", "limit": 10},
    }
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.response.headers["x-ratelimit-remaining"] == "0"


# --- tool calls -----------------------------------------------------------------------------------

RICH_PARAMS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2, "maxLength": 40},
        "unit": {"enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "contact": {"type": "string", "format": "email"},
        "when": {"type": "string", "format": "date-time"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        "where": {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
            "required": ["lat", "lon"],
            "additionalProperties": False,
        },
    },
    "required": ["city", "unit", "days", "contact", "when", "tags", "where"],
    "additionalProperties": False,
}
RICH_TOOL = {"type": "function", "function": {"name": "forecast", "parameters": RICH_PARAMS}}


def test_generated_tool_arguments_validate_against_the_tool_schema(server: EmulatorServer) -> None:
    """Omitted arguments are generated from the tool's parameters: a JSON string, schema-valid."""
    server.add({"name": "tool", "reply": {"tool_calls": [{"name": "forecast"}]}})
    completion = create(server, tools=[RICH_TOOL])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.function.name == "forecast"
    assert re.fullmatch(r"call_[A-Za-z0-9]{24}", call.id)
    jsonschema.validate(
        json.loads(call.function.arguments),
        RICH_PARAMS,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def test_explicit_tool_arguments_and_ids(server: EmulatorServer) -> None:
    """Arguments given as a mapping are sent as compact JSON, a raw string as is, ids as given."""
    server.add("""
name: explicit
reply:
  tool_calls:
    - {name: get_weather, id: call_fixed_1, arguments: {city: Rome}}
    - {name: get_weather, arguments: '{"city": "Oslo"'}
""")
    calls = create(server).choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].id == "call_fixed_1" and calls[0].function.arguments == '{"city":"Rome"}'
    assert calls[1].function.arguments == '{"city": "Oslo"'  # a broken string, sent as written


class GetWeather(BaseModel):
    """Current weather for a city."""

    city: str
    unit: Literal["c", "f"]
    days: int


def test_strict_pydantic_tool_is_parsed_by_the_sdk(server: EmulatorServer) -> None:
    """A pydantic_function_tool call comes back with parsed_arguments filled by parse()."""
    server.add({"name": "tool", "reply": {"tool_calls": [{"name": "GetWeather"}]}})
    client = sdk(server)
    completion = parse_method(client)(
        model=MODEL, messages=USER, tools=[openai.pydantic_function_tool(GetWeather)]
    )
    (call,) = completion.choices[0].message.tool_calls or []
    assert isinstance(call.function.parsed_arguments, GetWeather)
    assert call.function.parsed_arguments.unit in ("c", "f")


# --- structured output ----------------------------------------------------------------------------


class Address(BaseModel):
    street: str
    city: str


class Person(BaseModel):
    name: str
    age: int
    role: Literal["admin", "user", "guest"]
    emails: list[str]
    address: Address
    nickname: str | None


def test_structured_output_parsed_into_a_pydantic_model(server: EmulatorServer) -> None:
    """parse(response_format=Model) gets generated JSON that fills the pydantic model."""
    server.add({"name": "structured", "reply": {}})
    completion = parse_method(sdk(server))(model=MODEL, messages=USER, response_format=Person)
    message = completion.choices[0].message
    assert isinstance(message.parsed, Person)
    assert message.parsed.role in ("admin", "user", "guest")
    assert json.loads(message.content or "") == message.parsed.model_dump()
    assert completion.choices[0].finish_reason == "stop"


def test_structured_output_on_the_default_reply(server: EmulatorServer) -> None:
    """With no scenario at all, a json_schema request also gets schema-valid JSON."""
    completion = parse_method(sdk(server))(model=MODEL, messages=USER, response_format=Address)
    assert isinstance(completion.choices[0].message.parsed, Address)


def test_parse_raises_on_length(server: EmulatorServer) -> None:
    """A structured reply cut on length makes parse() raise LengthFinishReasonError."""
    server.add({"name": "cut", "reply": {"content": '{"street": "Ma', "finish_reason": "length"}})
    with pytest.raises(openai.LengthFinishReasonError):
        parse_method(sdk(server))(model=MODEL, messages=USER, response_format=Address)


# --- n choices and choice errors ------------------------------------------------------------------


def test_n_choices_from_the_choices_list(server: EmulatorServer) -> None:
    """n=3 with two listed choices: the two as written, then a generated third, all indexed."""
    server.add("""
name: two-choices
reply:
  choices:
    - content: "Yes."
    - content: "No."
      finish_reason: length
""")
    choices = create(server, n=3).choices
    assert [c.index for c in choices] == [0, 1, 2]
    assert [c.message.content for c in choices[:2]] == ["Yes.", "No."]
    assert [c.finish_reason for c in choices] == ["stop", "length", "stop"]
    assert choices[2].message.content and choices[2].message.content not in ("Yes.", "No.")


CHOICE_ERRORS = [
    pytest.param(
        "choice_error: provider_error",
        {
            "code": 502,
            "message": "Provider returned error",
            "metadata": {"error_type": "provider_unavailable", "provider_code": "INTERNAL"},
        },
        id="preset",
    ),
    pytest.param(
        "choice_error: {code: 502, message: Provider disconnected mid-stream,"
        " metadata: {error_type: provider_unavailable}}",
        {
            "code": 502,
            "message": "Provider disconnected mid-stream",
            "metadata": {"error_type": "provider_unavailable"},
        },
        id="mapping",
    ),
]


@pytest.mark.parametrize(("yaml_line", "expected"), CHOICE_ERRORS)
def test_choice_error(server: EmulatorServer, yaml_line: str, expected: dict[str, Any]) -> None:
    """A choice error is a 200: finish_reason error and the error object in choice.model_extra."""
    server.add(f"name: choice-error\nreply:\n  content: partial output...\n  {yaml_line}\n")
    completion = create(server)
    choice = completion.choices[0]
    assert choice.finish_reason == "error"
    assert choice.message.content == "partial output..."
    assert choice.model_extra is not None and choice.model_extra["error"] == expected
    assert statuses(server) == [200]


# --- faults ---------------------------------------------------------------------------------------

FAULTS = [
    ("reset", openai.APIConnectionError),
    ("empty", openai.APIConnectionError),
    ("malformed_json", json.JSONDecodeError),
    ("{kind: hang, max_ms: 3000}", openai.APITimeoutError),
]


@pytest.mark.parametrize(("fault", "raises"), FAULTS, ids=[f[0].split(",")[0] for f in FAULTS])
def test_faults_as_the_sdk_sees_them(
    server: EmulatorServer, fault: str, raises: type[Exception]
) -> None:
    """reset/empty: APIConnectionError; malformed_json: a JSON error; hang: APITimeoutError."""
    server.add(f"name: fault\nfault: {fault}\n")
    with pytest.raises(raises):
        create(server, sdk(server, timeout=0.5))
    assert [e.scenario for e in server.requests] == ["fault"]


def test_timeout_is_not_a_connection_error_for_a_slow_reply(server: EmulatorServer) -> None:
    """A reply delayed past the client's timeout raises APITimeoutError, not a status error."""
    server.add({"name": "slow", "reply": {"content": "late", "delay_ms": 3000}})
    with pytest.raises(openai.APITimeoutError):
        create(server, sdk(server, timeout=0.3))


# --- strict mode ----------------------------------------------------------------------------------


def test_strict_mode_404_lists_near_misses_and_is_not_retried(server: EmulatorServer) -> None:
    """Strict mode: an unmatched request is a 404 naming the closest scenarios; no SDK retry."""
    server.configure(strict=True)
    server.add(
        {"name": "weather", "match": {"last_user_message": {"contains": "forecast"}}, **OK},
        {"name": "claude", "match": {"model": "anthropic/*", "stream": True}, **OK},
    )
    with pytest.raises(openai.NotFoundError) as caught:
        create(server, sdk(server, max_retries=2))
    assert str(caught.value) == (
        "Error code: 404 - no scenario matched this request (strict mode); closest: 'weather'"
        " (last_user_message does not contain 'forecast' (was: 'What is the weather in Paris?'));"
        " 'claude' (model does not match glob 'anthropic/*' (was: 'openai/gpt-4o'),"
        " stream is false, expected true)"
    )
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert caught.value.body["metadata"]["near_misses"][0]["scenario"] == "weather"
    assert statuses(server) == [404]


def test_strict_mode_unknown_forced_scenario(server: EmulatorServer) -> None:
    """X-Emulator-Scenario naming no loaded scenario is a 404 listing the loaded ones."""
    server.add({"name": "known", **OK})
    client = sdk(server, max_retries=2, default_headers={"X-Emulator-Scenario": "unknown"})
    with pytest.raises(openai.NotFoundError, match="no scenario named 'unknown'; loaded: known"):
        create(server, client)
    assert statuses(server) == [404]


def test_strict_mode_forced_exhausted_scenario_says_why(server: EmulatorServer) -> None:
    """Forcing a used-up fall_through scenario in strict mode: a 404 naming the exhaustion."""
    server.configure(strict=True)
    server.add({"name": "once", "after_sequence": "fall_through", **OK})
    client = sdk(server, default_headers={"X-Emulator-Scenario": "once"})
    assert create(server, client).choices[0].message.content == "ok"
    with pytest.raises(openai.NotFoundError) as caught:
        create(server, client)
    assert str(caught.value) == (
        "Error code: 404 - no scenario matched this request (strict mode); closest: 'once'"
        " (sequence exhausted after 1 call(s) (after_sequence: fall_through))"
    )


# --- templating -----------------------------------------------------------------------------------


def test_template_reads_the_request(server: EmulatorServer) -> None:
    """Templates reach the last user message, model, tool names and the scenario name."""
    server.add(
        {
            "name": "echo",
            "reply": {
                "content": "{{ scenario.name }}: {{ request.last_user_message | upper }} via"
                " {{ request.model }} tools={{ request.tool_names | json }}"
            },
        }
    )
    content = create(server, tools=[RICH_TOOL]).choices[0].message.content
    assert content == 'echo: WHAT IS THE WEATHER IN PARIS? via openai/gpt-4o tools=["forecast"]'


def test_call_number_counts_across_a_sequence(server: EmulatorServer) -> None:
    """call_number is the scenario's 1-based call count, across its sequence and beyond."""
    server.add("""
name: counted
sequence:
  - reply: {content: "first ({{ call_number }})"}
  - reply: {content: "again ({{ call_number }})"}
""")
    contents = [create(server).choices[0].message.content for _ in range(3)]
    assert contents == ["first (1)", "again (2)", "again (3)"]


def test_seeded_faker_in_templates(server: EmulatorServer) -> None:
    """faker.* values are the same for the same seed and request, and change with the seed."""

    def run(seed: int) -> str:
        server.reset()
        server.add({"name": "fake", "reply": {"content": "{{ faker.name }} <{{ faker.email }}>"}})
        server.configure(seed=seed)
        return str(create(server).choices[0].message.content)

    first, again, other = run(1), run(1), run(2)
    assert first == again != other
    assert re.fullmatch(r"[\w .'-]+ <[^@\s]+@[^@\s]+>", first)


# --- determinism ----------------------------------------------------------------------------------

DETERMINISM = {
    "name": "generated",
    "reply": {
        "content": "{{ faker.sentence }}",
        "tool_calls": [{"name": "forecast"}],
        "reasoning": "{{ faker.paragraph }}",
    },
}


def test_same_seed_same_bytes_after_reset(server: EmulatorServer) -> None:
    """Reset, same seed, same request: the same response bytes, ids included."""
    bodies = []
    for _ in range(2):
        server.reset()
        server.add(DETERMINISM)
        server.configure(seed=42)
        bodies.append(chat(server.url, tools=[RICH_TOOL], n=2).body)
    assert bodies[0] == bodies[1]
    assert json.loads(bodies[0])["choices"][1]["message"]["tool_calls"]


def test_same_seed_same_bytes_on_fresh_servers(make_server: Callable[..., EmulatorServer]) -> None:
    """Two fresh servers with the same seed answer the same request with the same bytes."""
    bodies = {}
    for label, seed in (("a", 7), ("b", 7), ("other", 8)):
        fresh = make_server(seed=seed)
        fresh.add(DETERMINISM)
        bodies[label] = chat(fresh.url, tools=[RICH_TOOL]).body + chat(fresh.url).body
    assert bodies["a"] == bodies["b"]
    assert bodies["a"] != bodies["other"]


def test_generated_structured_output_is_deterministic(server: EmulatorServer) -> None:
    """Structured output JSON is the same bytes for the same seed and request."""
    schema = Person.model_json_schema()
    fmt = {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}}
    first = chat(server.url, response_format=fmt).body
    server.reset()
    assert chat(server.url, response_format=fmt).body == first


# --- matching over HTTP ---------------------------------------------------------------------------


def served(server: EmulatorServer) -> list[str | None]:
    return [entry.scenario for entry in server.requests]


def test_priority_wins_over_load_order(server: EmulatorServer) -> None:
    """Of two matching scenarios the higher priority answers; a tie goes to the first loaded."""
    server.add(
        {"name": "first", "reply": {"content": "first"}},
        {
            "name": "urgent",
            "priority": 10,
            "match": {"any_message": {"contains": "urgent"}},
            "reply": {"content": "urgent"},
        },
        {"name": "second", "reply": {"content": "second"}},
    )
    urgent = [{"role": "user", "content": "This is urgent"}]
    assert create(server, messages=urgent).choices[0].message.content == "urgent"
    assert create(server).choices[0].message.content == "first"
    assert served(server) == ["urgent", "first"]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("openai/gpt-4o", "glob"),
        ("openai/gpt-4o-mini", "glob"),
        ("anthropic/claude-sonnet-4.5", "regex"),
        ("anthropic/claude-3-haiku", None),
        ("google/gemini-2.5-pro", None),
    ],
)
def test_model_glob_and_regex(server: EmulatorServer, model: str, expected: str | None) -> None:
    """`model` is a glob by default, `{regex: ...}` a regular expression searched in it."""
    server.add(
        {"name": "glob", "match": {"model": "openai/gpt-4o*"}, **OK},
        {"name": "regex", "match": {"model": {"regex": r"^anthropic/claude-.*-4\.5$"}}, **OK},
    )
    create(server, model=model)
    assert served(server) == [expected]


def test_header_forces_a_scenario(server: EmulatorServer) -> None:
    """X-Emulator-Scenario picks a scenario whatever its match block and priority say."""
    server.add(
        {"name": "top", "priority": 99, "reply": {"content": "top"}},
        {"name": "hidden", "match": {"model": "nothing/*"}, "reply": {"content": "hidden"}},
    )
    forced = sdk(server, default_headers={"X-Emulator-Scenario": "hidden"})
    assert create(server, forced).choices[0].message.content == "hidden"
    assert create(server).choices[0].message.content == "top"
    assert [(e.scenario, e.call_number) for e in server.requests] == [("hidden", 1), ("top", 1)]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("repeat_last", ["a", "b", "b", "b"]),
        ("cycle", ["a", "b", "a", "b"]),
        ("fall_through", ["a", "b", "fallback", "fallback"]),
    ],
)
def test_after_sequence(server: EmulatorServer, mode: str, expected: list[str]) -> None:
    """After the last step: repeat_last repeats it, cycle starts over, fall_through steps aside."""
    server.add(
        {
            "name": "seq",
            "priority": 1,
            "after_sequence": mode,
            "sequence": [{"reply": {"content": "a"}}, {"reply": {"content": "b"}}],
        },
        {"name": "fallback", "reply": {"content": "fallback"}},
    )
    contents = [create(server).choices[0].message.content for _ in expected]
    assert contents == expected


def test_sequence_counters_reset_between_tests(server: EmulatorServer) -> None:
    """server.reset() (run before every test) starts every sequence again from its first step."""
    steps = {"name": "seq", "sequence": [{"reply": {"content": "a"}}, {"reply": {"content": "b"}}]}
    server.add(steps)
    assert [create(server).choices[0].message.content for _ in range(2)] == ["a", "b"]
    server.reset()
    server.add(steps)
    assert create(server).choices[0].message.content == "a"


def test_the_issue_example_file(server: EmulatorServer) -> None:
    """The issue's example file works as written: the retry scenario, weather-tool and answer."""
    from test_loader import ISSUE_EXAMPLE

    server.add(ISSUE_EXAMPLE)
    tool_call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"},
    }
    retry_request: dict[str, Any] = {
        "model": "openai/gpt-4o-mini",
        "stream": True,
        "messages": [
            {"role": "system", "content": "Be TERSE..."},
            {"role": "user", "content": "What is the weather?"},
            {"role": "assistant", "content": None, "tool_calls": [tool_call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "w", "schema": {"type": "object"}},
        },
        "temperature": 0,
        "extra_headers": {"x-test-case": "retry"},
    }
    keyed = OpenAI(base_url=server.base_url, api_key="sk-test-no-credits", max_retries=0)
    with pytest.raises(openai.RateLimitError, match="Rate limit exceeded"):
        keyed.chat.completions.create(**retry_request)
    chunks = list(keyed.chat.completions.create(**retry_request))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "It is sunny in Paris."
    )
    calls = create(server, tools=[WEATHER_TOOL]).choices[0].message.tool_calls
    assert [(c.function.name, c.function.arguments) for c in calls or []][1] == (
        "get_weather",
        '{"city":"Rome"}',
    )
    answer = create(server, messages=[{"role": "user", "content": "Hi there"}])
    assert answer.choices[0].message.content == "You said: Hi there"
    assert (answer.model, answer.model_extra["provider"]) == (
        "anthropic/claude-sonnet-4.5",
        "Anthropic",
    )
    assert answer.usage is not None and answer.usage.total_tokens == 17
    assert served(server) == [
        "rate-limited-then-ok",
        "rate-limited-then-ok",
        "weather-tool",
        "answer",
    ]


# --- tool_choice on the default reply -------------------------------------------------------------

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


@pytest.mark.parametrize(
    ("tool_choice", "called"),
    [
        ("required", "get_weather"),
        ({"type": "function", "function": {"name": "forecast"}}, "forecast"),
        ("none", None),
        ("auto", None),
    ],
    ids=["required", "named", "none", "auto"],
)
def test_tool_choice_honoured_by_the_default_reply(
    server: EmulatorServer, tool_choice: Any, called: str | None
) -> None:
    """required or a named function gives a tool call; none (and auto) give text."""
    choice = create(server, tools=[WEATHER_TOOL, RICH_TOOL], tool_choice=tool_choice).choices[0]
    if called is None:
        assert choice.message.tool_calls is None and choice.message.content
        assert choice.finish_reason == "stop"
    else:
        (call,) = choice.message.tool_calls or []
        assert call.function.name == called and choice.finish_reason == "tool_calls"
        assert choice.message.content is None
