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
    """A reply generated from a response_format schema past the budget gets a 422 envelope."""
    server = make_server(request_budget_ms=0)
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
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
