"""The shipped scenario library (`scenarios/`, the `emulator.scenarios` resources), loaded whole
and exercised file by file through the official openai SDK, each by its `x-test-case` header."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema stubs installed
import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel

from emulator.loader import load_paths
from emulator.presets import error_body_preset
from emulator.scenario import Scenario
from emulator.testing import EmulatorServer

LIBRARY = Path(str(files("emulator.scenarios")))
TESTS = Path(__file__).parent
STREAM_PREFIX = "stream-"  # the streaming part of the library, exercised by its own tests
MODEL = "openai/gpt-4o"
USER = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
    "required": ["city", "unit"],
    "additionalProperties": False,
}
TIME_PARAMS = {
    "type": "object",
    "properties": {"timezone": {"type": "string"}, "iso": {"type": "boolean"}},
    "required": ["timezone"],
}
WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": WEATHER_PARAMS},
}
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": TIME_PARAMS}}

# file stem → (preset, SDK exception class, HTTP status)
ERROR_FILES: dict[str, tuple[str, type[openai.APIStatusError], int]] = {
    "error-bad-request": ("bad_request", openai.BadRequestError, 400),
    "error-unauthorized": ("unauthorized", openai.AuthenticationError, 401),
    "error-invalid-api-key": ("invalid_api_key", openai.AuthenticationError, 401),
    "error-no-auth": ("no_auth", openai.AuthenticationError, 401),
    "error-insufficient-credits": ("insufficient_credits", openai.APIStatusError, 402),
    "error-moderation": ("moderation", openai.PermissionDeniedError, 403),
    "error-not-found": ("not_found", openai.NotFoundError, 404),
    "error-timeout": ("timeout", openai.APIStatusError, 408),
    "error-rate-limited": ("rate_limited", openai.RateLimitError, 429),
    "error-rate-limited-upstream": ("rate_limited_upstream", openai.RateLimitError, 429),
    "error-server-error": ("server_error", openai.InternalServerError, 500),
    "error-provider-error": ("provider_error", openai.InternalServerError, 502),
    "error-no-provider": ("no_provider", openai.InternalServerError, 503),
    "error-overloaded": ("overloaded", openai.InternalServerError, 529),
}
# file stem → the statuses the journal shows while the SDK's own retries succeed
RETRY_FILES: dict[str, list[int | None]] = {
    "rate-limited-then-ok": [429, 200],
    "server-error-then-ok": [500, 502, 200],
    "reset-then-ok": [None, 200],  # a reset connection has no status
}
# file stem → the exception the SDK raises (max_retries=0, timeout 0.5 s)
FAULT_FILES: dict[str, type[Exception]] = {
    "fault-reset": openai.APIConnectionError,
    "fault-empty": openai.APIConnectionError,
    "fault-hang": openai.APITimeoutError,
    "fault-malformed-json": json.JSONDecodeError,
}
# file stem → the finish_reason forced by the file
FINISH_FILES = {"content-filter": "content_filter", "length": "length"}
# files with a test function of their own below
SINGLE_FILES = (
    "tool-call-loop",
    "parallel-tool-calls",
    "structured-output",
    "choice-error",
    "prefill-continuation",
    "multimodal-echo",
    "refusal",
    "reasoning",
    "n-choices",
)
COVERED = {*ERROR_FILES, *RETRY_FILES, *FAULT_FILES, *FINISH_FILES, *SINGLE_FILES}


def library_files() -> list[Path]:
    return sorted(p for p in LIBRARY.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def own_files() -> list[Path]:
    """The non-streaming files, exercised here."""
    return [p for p in library_files() if not p.name.startswith(STREAM_PREFIX)]


@pytest.fixture(scope="module")
def library_scenarios() -> list[Scenario]:
    """The whole directory, loaded once (scenarios are frozen values, reusable by every test)."""
    return load_paths([LIBRARY])


@pytest.fixture
def library(server: EmulatorServer, library_scenarios: list[Scenario]) -> EmulatorServer:
    server.emulator.state.add(library_scenarios)
    return server


@functools.cache
def _case_client(base_url: str, api_key: str, case: str) -> OpenAI:
    # Building a client costs ~70 ms (TLS context); plain clients are shared across tests.
    return OpenAI(
        base_url=base_url, api_key=api_key, default_headers={"x-test-case": case}, max_retries=0
    )


def client(server: EmulatorServer, case: str, **options: Any) -> OpenAI:
    """A client of `server` sending `x-test-case: case`, with `options` (default: no retries)."""
    if not options:
        return _case_client(server.base_url, server.api_key, case)
    options.setdefault("max_retries", 0)
    return OpenAI(
        base_url=server.base_url,
        api_key=server.api_key,
        default_headers={"x-test-case": case},
        **options,
    )


def create(server: EmulatorServer, case: str, **params: Any) -> Any:
    params.setdefault("model", MODEL)
    params.setdefault("messages", USER)
    return client(server, case).chat.completions.create(**params)


def served_by(server: EmulatorServer) -> list[str | None]:
    return [entry.scenario for entry in server.requests]


# --- the directory as a whole ---------------------------------------------------------------------


def test_every_file_is_covered_by_a_test() -> None:
    """Every non-stream file has a test here; every file's name appears in some test module."""
    assert {p.stem for p in own_files()} == COVERED
    missing = [s for s in SINGLE_FILES if "test_" + s.replace("-", "_") not in globals()]
    assert missing == []
    texts = "\n".join(p.read_text() for p in TESTS.glob("test_*.py"))
    untested = [p.name for p in library_files() if f'"{p.stem}"' not in texts]
    assert untested == []


def test_readme_lists_every_file() -> None:
    """scenarios/README.md has a line for every file of the library."""
    readme = (LIBRARY / "README.md").read_text()
    missing = [p.name for p in library_files() if f"`{p.name}`" not in readme]
    assert missing == []


@pytest.mark.parametrize("path", own_files(), ids=lambda p: p.stem)
def test_file_is_named_described_and_keyed_by_its_header(path: Path) -> None:
    """Each file's scenarios have a description and match only `x-test-case: <file stem>`."""
    scenarios = load_paths([path])
    assert scenarios[0].name == path.stem
    for scenario in scenarios:
        assert scenario.description.strip()
        assert scenario.name.startswith(path.stem)
        headers = dict(scenario.match.headers)
        assert headers["x-test-case"].op == "equals"
        assert headers["x-test-case"].value == path.stem


def test_whole_directory_loads_from_the_package(server: EmulatorServer) -> None:
    """server.load() takes the packaged directory; every file's scenarios are loaded, once each."""
    loaded = server.load(LIBRARY)
    assert {s.source.file for s in loaded} == {str(p) for p in library_files()}
    assert len({s.name for s in loaded}) == len(loaded)


def test_validate_command_accepts_the_library() -> None:
    """`chat-emulator validate scenarios/` exits 0 with no warning (no agent-loop warning either)."""
    proc = subprocess.run(
        [sys.executable, "-m", "emulator", "validate", str(LIBRARY)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: ")
    assert proc.stderr == ""


def test_requests_without_the_header_get_the_default_reply(library: EmulatorServer) -> None:
    """With the whole library loaded, a request without x-test-case is not taken by any file."""
    plain = OpenAI(base_url=library.base_url, api_key="sk-x", max_retries=0)
    completion = plain.chat.completions.create(model=MODEL, messages=USER)
    assert completion.choices[0].message.content
    assert served_by(library) == [None]


# --- errors, retries, faults ----------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(ERROR_FILES))
def test_error_file_raises_the_sdk_exception(library: EmulatorServer, case: str) -> None:
    """Each error file raises the SDK's class for its status with the preset's message and body."""
    preset, cls, status = ERROR_FILES[case]
    body = error_body_preset(preset).to_json()
    with pytest.raises(cls) as caught:
        create(library, case)
    assert type(caught.value) is cls
    assert caught.value.status_code == status
    assert str(caught.value) == f"Error code: {status} - {body['message']}"
    assert caught.value.body == body
    assert served_by(library) == [case]


@pytest.mark.parametrize("case", ["error-rate-limited", "error-rate-limited-upstream"])
def test_rate_limit_files_send_retry_after(library: EmulatorServer, case: str) -> None:
    """The 429 files carry Retry-After: 1, as the router does."""
    with pytest.raises(openai.RateLimitError) as caught:
        create(library, case)
    assert caught.value.response.headers["retry-after"] == "1"


@pytest.mark.parametrize("case", sorted(RETRY_FILES))
def test_retry_file_succeeds_through_sdk_retries(library: EmulatorServer, case: str) -> None:
    """The SDK's own retries (default max_retries=2) turn each retry file into a success."""
    completion = client(library, case, max_retries=2).chat.completions.create(
        model=MODEL, messages=USER
    )
    statuses = RETRY_FILES[case]
    assert completion.choices[0].message.content is not None
    assert completion.choices[0].message.content.startswith(f"Succeeded on call {len(statuses)},")
    assert [e.status for e in library.requests] == statuses
    assert served_by(library) == [case] * len(statuses)


@pytest.mark.parametrize("case", sorted(FAULT_FILES))
def test_fault_file_as_the_sdk_sees_it(library: EmulatorServer, case: str) -> None:
    """reset and empty are connection errors, hang a timeout, malformed_json a JSON error."""
    sdk = client(library, case, timeout=0.5)
    with pytest.raises(FAULT_FILES[case]):
        sdk.chat.completions.create(model=MODEL, messages=USER)
    assert served_by(library) == [case]


@pytest.mark.parametrize("case", sorted(FINISH_FILES))
def test_finish_reason_file(library: EmulatorServer, case: str) -> None:
    """content-filter and length send their finish_reason with a native one for the provider."""
    completion = create(library, case, model="anthropic/claude-sonnet-4.5")
    choice = completion.choices[0]
    assert choice.finish_reason == FINISH_FILES[case]
    assert choice.message.content
    native = {"content_filter": "refusal", "length": "max_tokens"}[FINISH_FILES[case]]
    assert choice.model_extra["native_finish_reason"] == native


# --- replies --------------------------------------------------------------------------------------


def test_tool_call_loop(library: EmulatorServer) -> None:
    """A generated get_weather call, then (given the tool result) a final answer quoting it."""
    first = create(library, "tool-call-loop", tools=[WEATHER_TOOL])
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None and len(message.tool_calls) == 1
    call = message.tool_calls[0]
    assert call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER_PARAMS)
    history = [
        *USER,
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C"},
    ]
    final = create(library, "tool-call-loop", tools=[WEATHER_TOOL], messages=history)
    assert final.choices[0].message.content == "The tool said: Sunny, 21 C"
    assert final.choices[0].finish_reason == "stop"
    assert served_by(library) == ["tool-call-loop", "tool-call-loop-answer"]


def test_parallel_tool_calls(library: EmulatorServer) -> None:
    """Two calls in one message, distinct ids, each with arguments valid for its own tool."""
    completion = create(library, "parallel-tool-calls", tools=[WEATHER_TOOL, TIME_TOOL])
    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert len({c.id for c in calls}) == 2
    jsonschema.validate(json.loads(calls[0].function.arguments), WEATHER_PARAMS)
    jsonschema.validate(json.loads(calls[1].function.arguments), TIME_PARAMS)
    assert completion.choices[0].finish_reason == "tool_calls"


class Forecast(BaseModel):
    city: str
    temperature: float
    conditions: list[str]


def test_structured_output(library: EmulatorServer) -> None:
    """parse() with a pydantic model gets JSON generated from the model's schema."""
    completion = client(library, "structured-output").chat.completions.parse(
        model=MODEL, messages=USER, response_format=Forecast
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Forecast)
    assert json.loads(completion.choices[0].message.content or "") == parsed.model_dump()


def test_choice_error(library: EmulatorServer) -> None:
    """A 200 whose choice has finish_reason error and the error object, no exception."""
    choice = create(library, "choice-error").choices[0]
    assert choice.finish_reason == "error"
    assert choice.message.content == "partial output..."
    assert choice.model_extra["error"] == {
        "code": 502,
        "message": "Provider disconnected mid-stream",
        "metadata": {"error_type": "provider_unavailable"},
    }


def test_prefill_continuation(library: EmulatorServer) -> None:
    """The reply continues an assistant prefill: lower case, joined by a space, not repeated."""
    prefill = "The weather in Paris is"
    messages = [*USER, {"role": "assistant", "content": prefill}]
    content = create(library, "prefill-continuation", messages=messages).choices[0].message.content
    assert content is not None and content.startswith(" ")
    assert content[1].islower()
    assert prefill not in content


@pytest.mark.parametrize(
    ("part", "shown"),
    [
        (
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            "image_url: https://example.com/cat.png",
        ),
        (
            {
                "type": "file",
                "file": {
                    "filename": "report.pdf",
                    "file_data": "data:application/pdf;base64,JVBERi0=",
                },
            },
            "file: report.pdf",
        ),
    ],
    ids=["image", "file"],
)
def test_multimodal_echo(library: EmulatorServer, part: dict[str, Any], shown: str) -> None:
    """The reply echoes the text part and describes the attached image or file."""
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, part]}]
    content = create(library, "multimodal-echo", messages=messages).choices[0].message.content
    assert content == f'You wrote "What is this?" and attached {shown}'


def test_refusal(library: EmulatorServer) -> None:
    """message.refusal carries the refusal; content is null; parse() leaves parsed None."""
    completion = client(library, "refusal").chat.completions.parse(
        model=MODEL, messages=USER, response_format=Forecast
    )
    message = completion.choices[0].message
    assert message.refusal == "I'm sorry, but I can't help with that request."
    assert message.content is None and message.parsed is None
    assert completion.choices[0].finish_reason == "stop"


def test_reasoning(library: EmulatorServer) -> None:
    """message.reasoning (templated from the request) comes with the content."""
    message = create(library, "reasoning").choices[0].message
    assert message.content == "The answer is 42."
    assert message.model_extra["reasoning"] == (
        "The user asks: What is the weather in Paris? Let me work it out step by step."
    )


def test_n_choices(library: EmulatorServer) -> None:
    """n=3 gets the file's three choices, indexed, the third cut on length."""
    completion = create(library, "n-choices", n=3)
    assert [(c.index, c.message.content, c.finish_reason) for c in completion.choices] == [
        (0, "First answer.", "stop"),
        (1, "Second answer.", "stop"),
        (2, "Third answer, cut", "length"),
    ]


def test_library_readme_names_no_missing_file() -> None:
    """Every file named in scenarios/README.md exists (no stale entries)."""
    readme = (LIBRARY / "README.md").read_text()
    named = re.findall(r"`([\w.-]+\.ya?ml)`", readme)
    assert named and all((LIBRARY / name).is_file() for name in named)
