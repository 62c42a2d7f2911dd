"""Bounded work per request (inputs sized down from the benchmark's): linear validation with a
capped problem list, linear enum generation, steps off the event loop stopped at their budget
with a 413/422 in the envelope."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Callable

import pytest
import requests
from faker import Faker

from emulator import jsongen
from emulator.childparse import MAX_JSON_VALUES
from emulator.deadline import Bounded, BudgetExceeded
from emulator.testing import EmulatorServer
from emulator.validation import MAX_PROBLEMS, RequestValidator

MESSAGES = [{"role": "user", "content": "hi"}]
MakeServer = Callable[..., EmulatorServer]
MORE = f"more problems not listed (only the first {MAX_PROBLEMS})"


@pytest.fixture(scope="module")
def validator() -> RequestValidator:
    """One compiled validator for the module."""
    return RequestValidator()


def test_many_invalid_content_parts_list_the_first_problems(validator: RequestValidator) -> None:
    """Thousands of invalid content parts: the first MAX_PROBLEMS described, then a note."""
    parts = [{"type": "bogus"}] * 4000
    result = validator.validate({"model": "m", "messages": [{"role": "user", "content": parts}]})
    assert len(result.problems) == MAX_PROBLEMS + 1
    assert result.problems[0].path == "messages[0].content[0].type"
    assert (result.problems[-1].path, result.problems[-1].message) == ("", MORE)


def test_many_empty_messages_list_the_first_problems(validator: RequestValidator) -> None:
    """A body of many `{}` messages (the 20 MiB `[{}]` input, sized down) is answered at once."""
    result = validator.validate({"model": "m", "messages": [{}] * 20_000})
    assert len(result.problems) == MAX_PROBLEMS + 1
    assert result.problems[0] == result.problems[0].__class__("messages[0].role", "required")


def test_many_unknown_keys_in_strict_mode(validator: RequestValidator) -> None:
    """Thousands of unknown keys in strict mode: the first MAX_PROBLEMS named, in body order."""
    unknown = {f"k{i:05d}": 1 for i in range(3000)}
    result = validator.validate({"model": "m", "messages": MESSAGES, **unknown}, strict=True)
    assert [p.path for p in result.problems[:2]] == ["k00000", "k00001"]
    assert len(result.problems) == MAX_PROBLEMS + 1
    assert result.problems[-1].message == MORE


def test_large_enum_generates_a_member() -> None:
    """A 20,000-value enum (quadratic to check before) yields one of its values."""
    values = [f"v{i}" for i in range(20_000)]
    schema = {"type": "object", "properties": {"a": {"enum": values}}, "required": ["a"]}
    value = jsongen.generate_json(schema, random.Random(1), Faker())
    assert value["a"] in values


def test_enum_members_still_checked_against_other_keywords() -> None:
    """Enum values that fail a sibling keyword are never picked."""
    schema = {"enum": ["a", "bb", "ccc"], "minLength": 3}
    assert jsongen.generate_json(schema, random.Random(0), Faker()) == "ccc"


# --- off the event loop, with a deadline ---------------------------------------------------------


def test_bounded_step_returns_its_value_and_raises_its_errors() -> None:
    """A step's value and its exceptions reach the awaiting coroutine."""

    async def scenario() -> None:
        bounded = Bounded()
        assert await bounded.run(lambda: 6 * 7, 5.0) == 42
        with pytest.raises(ZeroDivisionError):
            await bounded.run(lambda: 1 / 0, 5.0)

    asyncio.run(scenario())


def test_bounded_step_past_its_budget_is_stopped() -> None:
    """A step that never ends gets BudgetExceeded in its own thread, and so does its awaiter."""
    ended = threading.Event()

    def spin() -> None:
        try:
            while True:
                pass
        finally:
            ended.set()

    async def scenario() -> None:
        with pytest.raises(BudgetExceeded):
            await Bounded().run(spin, 0.05)

    asyncio.run(scenario())
    assert ended.wait(10)


def post(server: EmulatorServer, body: object) -> requests.Response:
    return requests.post(
        server.base_url + "/chat/completions",
        data=json.dumps(body),
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
        timeout=30,
    )


def test_large_body_past_the_budget_is_a_413(make_server: MakeServer) -> None:
    """A body handled off the loop that runs past --request-budget-ms gets a 413 envelope."""
    server = make_server(request_budget_ms=0)
    response = post(server, {"model": "m", "messages": [{"role": "user", "content": "x" * 50_000}]})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == 413
    assert error["message"].startswith("the request needs more than the server's budget of 0 ms")
    assert error["metadata"] == {"error_type": "payload_too_large", "budget_ms": 0}


def test_generation_past_the_budget_is_a_422(make_server: MakeServer) -> None:
    """A reply generated from a response_format schema past the budget gets a 422 envelope (a
    schema that needs more than the inline slice: 400 required items, redone in the worker
    thread, where the budget applies)."""
    server = make_server(request_budget_ms=0)
    rows = {"type": "array", "minItems": 400, "items": {"type": "string"}}
    schema = {"type": "object", "properties": {"a": rows}, "required": ["a"]}
    rf = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    response = post(server, {"model": "m", "messages": MESSAGES, "response_format": rf})
    assert response.status_code == 422
    assert "to generate" in response.json()["error"]["message"]


def test_large_valid_body_is_answered(server: EmulatorServer) -> None:
    """A large valid body (handled in a worker thread) is answered as usual and journaled."""
    response = post(server, {"model": "m", "messages": [{"role": "user", "content": "y" * 50_000}]})
    assert response.status_code == 200
    assert server.last_request.body_bytes > 50_000
    assert server.last_request.completion is not None


# --- the JSON gate: large bodies with very many values are parsed in another process -----------


def post_raw(server: EmulatorServer, raw: bytes) -> requests.Response:
    return requests.post(
        server.base_url + "/chat/completions",
        data=raw,
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
        timeout=60,
    )


def test_body_with_too_many_values_is_a_413(make_server: MakeServer) -> None:
    """A 1.2 MB body of `{}` messages (the 20 MiB input, sized down) is a 413 naming the limit."""
    server = make_server(request_budget_ms=60_000)  # a busy machine must not turn it into a 413
    raw = b'{"model":"m","messages":[' + b",".join([b"{}"] * 400_000) + b"]}"
    response = post_raw(server, raw)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["message"] == "request body has 400,003 JSON values; the limit is 100,000"
    assert error["metadata"]["limit"] == MAX_JSON_VALUES


def test_gated_body_that_is_not_json_gets_the_parse_error(make_server: MakeServer) -> None:
    """A large body broken at its very end gets the same 400 as a small one would."""
    server = make_server(request_budget_ms=60_000)
    raw = b'{"model":"m","messages":[' + b",".join([b"{}"] * 400_000) + b"]"
    response = post_raw(server, raw)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("request body is not valid JSON:")


def test_large_text_with_many_commas_passes_the_gate(make_server: MakeServer) -> None:
    """A 1.2 MB prompt full of commas (few JSON values) passes the gate and is answered."""
    server = make_server(request_budget_ms=60_000)
    body = {"model": "m", "messages": [{"role": "user", "content": "a," * 600_000}]}
    response = post_raw(server, json.dumps(body).encode())
    assert response.status_code == 200
    assert server.last_request.body_bytes > 1_200_000


# --- scenario uploads: over 64 KiB, loaded by a child process -----------------------------------


def upload(server: EmulatorServer, text: bytes) -> requests.Response:
    return requests.post(
        server.url + "/_emulator/scenarios?source=big.yaml",
        data=text,
        headers={"Content-Type": "application/yaml"},
        timeout=120,
    )


def many_scenarios(count: int, last: str = "") -> bytes:
    item = (
        "  - name: s{i}\n    match: {{last_user_message: hello {i}}}\n    reply: {{content: hi}}\n"
    )
    return ("scenarios:\n" + "".join(item.format(i=i) for i in range(count)) + last).encode()


def test_large_upload_loads_through_a_child_process(server: EmulatorServer) -> None:
    """An upload over 64 KiB loads (in a child process) and its scenarios answer, regex too."""
    regex = "  - name: greet\n    match: {last_user_message: {regex: '^h(i|ello)$'}}\n"
    regex += "    reply: {content: matched}\n"
    text = many_scenarios(1000, regex)
    assert len(text) > 64 * 1024
    response = upload(server, text)
    assert response.status_code == 201
    assert len(response.json()["loaded"]) == 1001
    reply = requests.post(
        server.base_url + "/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hello"}]},
        headers={"Authorization": "Bearer k"},
        timeout=10,
    )
    assert reply.json()["choices"][0]["message"]["content"] == "matched"


def test_large_upload_with_a_problem_names_its_line(server: EmulatorServer) -> None:
    """A broken scenario in a large upload is a 400 naming `source:line`, as a small one is."""
    text = many_scenarios(1000, "  - name: broken\n    reply: {content: 1, bogus: 2}\n")
    response = upload(server, text)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("big.yaml:3003: ")
    assert (error["metadata"]["source"], error["metadata"]["line"]) == ("big.yaml", 3003)


def test_upload_over_the_scenario_file_limit_is_a_413(server: EmulatorServer) -> None:
    """An upload over the 10 MiB scenario file limit is a 413, before any parsing."""
    response = upload(server, b"#" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert (
        "the upload is larger than the limit of 10485760 bytes"
        in response.json()["error"]["message"]
    )


def test_templated_reply_is_generated_off_the_loop(make_server: MakeServer) -> None:
    """A reply with a template (parsed on first use) is generated within the budget: 422 past it."""
    server = make_server(request_budget_ms=0)
    server.add({"name": "echo", "reply": {"content": "You said {{ request.last_user_message }}"}})
    assert post(server, {"model": "m", "messages": MESSAGES}).status_code == 422


def test_long_text_counts_exactly_in_chunks() -> None:
    """Texts over CHUNK_CHARS are encoded in chunks with the very same tokens as in one call."""
    from emulator import tokens

    rng = random.Random(7)
    words = ["hello", "Ünïcode", "don't", "x1", "123456", "  ", "\n", "!!", "日本語", "'s", "\r\n"]
    text = "".join(rng.choice(words) + rng.choice(["", " ", "\n"]) for _ in range(40_000))
    assert len(text) > 3 * tokens.CHUNK_CHARS
    assert tokens.encode(text) == tokens.encoding().encode_ordinary(text)
    assert tokens.count(text) == len(tokens.encoding().encode_ordinary(text))


def test_one_endless_word_is_counted_in_bounded_chunks() -> None:
    """A text with no split point (one letter repeated) is cut every CHUNK_CHARS characters."""
    from emulator import tokens

    text = "a" * (3 * tokens.CHUNK_CHARS)
    expected = 3 * len(tokens.encoding().encode_ordinary("a" * tokens.CHUNK_CHARS))
    assert tokens.count(text) == expected
