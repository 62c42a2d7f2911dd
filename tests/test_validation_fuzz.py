"""Property test: whatever bytes arrive at POST /v1/chat/completions, the answer is a 200 or a
well-formed 4xx error envelope; never a 500, never an HTML page, never a dropped connection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from validation_cases import VALID_CASES
from wire import RawResponse, request

from emulator.config import Config
from emulator.testing import EmulatorServer
from emulator.validation import load_schemas

ERROR_SCHEMA = Draft202012Validator(load_schemas(["error.schema.json"])["error.schema.json"])
KNOWN_KEYS = sorted(load_schemas(["request.schema.json"])["request.schema.json"]["properties"])
MESSAGE_KEYS = ["role", "content", "name", "tool_calls", "tool_call_id", "refusal", "reasoning"]
PART_KEYS = ["type", "text", "image_url", "file", "input_audio", "video_url", "url", "data"]
ROLES = ["system", "developer", "user", "assistant", "tool", "bot", ""]
PART_TYPES = ["text", "image_url", "file", "input_audio", "video_url", "input_video", "img"]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/vnd.api+json",
    "text/plain",
    "",
    None,
]

# Scalars that trip parsers and validators: huge and tiny numbers, -0.0, odd strings.
edge_numbers = st.sampled_from([0, -0.0, 1, -1, 2**53 + 1, 10**30, 1e308, -1e308, 5e-324, 0.5])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | edge_numbers
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _keyed(keys: list[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects whose keys are mostly the expected ones (so validation gets past the top)."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), values, max_size=6)


parts = _keyed(PART_KEYS, st.sampled_from(PART_TYPES) | json_values) | json_values
message_values = st.sampled_from(ROLES) | st.lists(parts, max_size=3) | json_values
messages = st.lists(_keyed(MESSAGE_KEYS, message_values) | json_values, max_size=4)
request_like = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["openai/gpt-4o", ""]) | json_values,
        "messages": messages | json_values,
        "stream": st.booleans() | json_values,
    },
).flatmap(
    lambda base: st.dictionaries(st.sampled_from(KNOWN_KEYS), json_values, max_size=4).map(
        lambda extra: {**base, **extra}
    )
)
valid_but_for = st.tuples(st.sampled_from(KNOWN_KEYS), json_values).map(
    lambda kv: {"model": "m", "messages": [{"role": "user", "content": "hi"}], kv[0]: kv[1]}
)

# Documented values of each parameter, from the valid table: mixed and matched, they give
# mostly valid requests that reach reply generation and streaming.
DOCUMENTED = sorted(
    {
        (key, json.dumps(value, sort_keys=True))
        for _, case in VALID_CASES
        for key, value in case.items()
    }
)
documented_mix = st.lists(st.sampled_from(DOCUMENTED), min_size=1, max_size=8).map(
    lambda pairs: (
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        | {key: json.loads(value) for key, value in pairs}
    )
)
stream_and_mix = st.tuples(documented_mix, st.booleans()).map(lambda t: {**t[0], "stream": t[1]})


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def _truncate(data: tuple[bytes, int]) -> bytes:
    raw, cut = data
    return raw[: cut % max(len(raw), 1)]


# Whole bodies as bytes: JSON values, request-like objects, unicode, truncations, raw bytes.
bodies = st.one_of(
    json_values.map(_encode),
    request_like.map(_encode),
    valid_but_for.map(_encode),
    documented_mix.map(_encode),
    stream_and_mix.map(_encode),
    st.tuples(request_like.map(_encode), st.integers(0, 10_000)).map(_truncate),
    st.text(max_size=60).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=80),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "9" * 5000]).map(
        lambda number: b'{"model": "m", "messages": [], "temperature": ' + number.encode() + b"}"
    ),
    st.integers(0xD800, 0xDFFF).map(
        lambda code: b'{"model": "m", "messages": [{"role": "user", "content": "\\u%x"}]}' % code
    ),
    st.integers(1, 300).map(lambda depth: b"[" * depth + b"]" * depth),
)


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[EmulatorServer]:
    """One server for every example (time_scale 0: generated streams play without waits)."""
    with EmulatorServer(Config(time_scale=0, max_body_bytes=64 * 1024)) as server:
        yield server


def assert_well_formed(response: RawResponse, raw: bytes) -> None:
    """A 200 with a completion or a whole stream, or a 4xx envelope whose code is the status."""
    context = f"{response.status} for {raw[:200]!r}: {response.body[:300]!r}"
    if response.status == 200:
        if response.headers["content-type"].startswith("text/event-stream"):
            assert response.data()[-1] == "[DONE]", context
        else:
            payload = response.json()
            assert payload["object"] in ("chat.completion", "text_completion"), context
        return
    assert 400 <= response.status < 500, context
    assert response.headers["content-type"].startswith("application/json"), context
    payload = response.json()
    ERROR_SCHEMA.validate(payload)
    assert payload["error"]["code"] == response.status, context
    assert payload["error"]["message"], context


# The server is a module-scoped fixture, so hypothesis's function-scoped-fixture health check
# does not apply: every example shares it on purpose, with no per-example state to reset.
@settings(max_examples=250, deadline=None)
@given(raw=bodies, content_type=st.sampled_from(CONTENT_TYPES))
def test_garbage_never_gets_a_500(
    fuzz_server: EmulatorServer, raw: bytes, content_type: str | None
) -> None:
    """Generated garbage gets a 200 or a 4xx envelope; the server never fails or hangs up."""
    response = request(fuzz_server.url, raw=raw, headers={"Content-Type": content_type})
    event(f"status {response.status}")
    assert_well_formed(response, raw)
    entry = fuzz_server.requests[-1]
    assert entry.outcome != "failed" and entry.status == response.status, entry.error
