"""A long models[] chain whose every model fails is walked in linear time: each failure looks
ahead only as far as the next model left to try (before, it listed every attempt still pending,
so thousands of fallback models held the event loop for seconds)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from typing import Any

import pytest

from emulator.catalogfile import builtin_catalog
from emulator.chatrequest import ChatRequest
from emulator.fallback import ATTEMPTS_PER_STEP, attempt_steps, play_attempts, run_attempts
from emulator.routing import RoutePlan, plan_route
from emulator.scenario import ErrorReply
from emulator.state import Selection


class CountedModel(str):
    """A model id that counts how often it is hashed (each set lookup of it)."""

    hashes = 0

    def __hash__(self) -> int:
        CountedModel.hashes += 1
        return str.__hash__(self)


def test_a_chain_of_failing_models_is_walked_in_linear_lookups() -> None:
    """300 unknown fallback models, all failing: a few set lookups per attempt, not one per
    attempt still pending (about 45,000 before), and the last model's error is the answer."""
    models = [f"acme/m{i}" for i in range(300)]
    body = {
        "model": models[0],
        "models": models[1:],
        "messages": [{"role": "user", "content": "x"}],
    }
    plan = plan_route(body, builtin_catalog(), random.Random(0))
    counted = tuple(dataclasses.replace(a, model=CountedModel(a.model)) for a in plan.attempts)
    plan = dataclasses.replace(plan, attempts=counted)
    down = ErrorReply(503, "Service temporarily unavailable")
    CountedModel.hashes = 0

    outcome = run_attempts(plan, ChatRequest(body, {}, "k"), lambda request: Selection(None, down))

    assert CountedModel.hashes < 10 * len(counted)
    assert outcome.response is down and outcome.attempt.model == "acme/m299"
    assert len(outcome.provider_responses) == 300


def _failing_chain(n: int) -> tuple[dict[str, Any], RoutePlan]:
    models = [f"acme/m{i}" for i in range(n)]
    body = {
        "model": models[0],
        "models": models[1:],
        "messages": [{"role": "user", "content": "x"}],
    }
    return body, plan_route(body, builtin_catalog(), random.Random(0))


def test_a_long_chain_yields_between_steps_and_ends_the_same() -> None:
    """attempt_steps yields once every ATTEMPTS_PER_STEP attempts (300 attempts: 9 times) and
    returns what run_attempts returns; a chain shorter than a step never yields."""
    down = ErrorReply(503, "Service temporarily unavailable")
    body, plan = _failing_chain(300)
    steps = attempt_steps(plan, ChatRequest(body, {}, "k"), lambda r: Selection(None, down))
    yields = 0
    while True:
        try:
            next(steps)
            yields += 1
        except StopIteration as done:
            stepped = done.value
            break
    assert yields == 300 // ATTEMPTS_PER_STEP
    whole = run_attempts(plan, ChatRequest(body, {}, "k"), lambda r: Selection(None, down))
    assert stepped.attempt.model == whole.attempt.model == "acme/m299"
    assert stepped.provider_responses == whole.provider_responses
    body, plan = _failing_chain(ATTEMPTS_PER_STEP - 1)
    short = attempt_steps(plan, ChatRequest(body, {}, "k"), lambda r: Selection(None, down))
    with pytest.raises(StopIteration):
        next(short)


def test_other_work_runs_while_a_long_chain_is_played() -> None:
    """On the event loop, another coroutine runs between the steps of a 300-model chain (the
    server answers other requests meanwhile), not only after it."""
    down = ErrorReply(503, "Service temporarily unavailable")
    body, plan = _failing_chain(300)
    order: list[str] = []

    def select(request: ChatRequest) -> Selection:
        order.append("attempt")
        return Selection(None, down)

    async def other() -> None:
        await asyncio.sleep(0)
        order.append("other")

    async def main() -> None:
        await asyncio.gather(play_attempts(plan, ChatRequest(body, {}, "k"), select), other())

    asyncio.run(main())
    assert order.count("attempt") == 300
    assert order.index("other") > 0  # after the first step's attempts
    assert order.index("other") < len(order) - 1  # before the last attempt
