"""A long models[] chain whose every model fails is walked in linear time: each failure looks
ahead only as far as the next model left to try (before, it listed every attempt still pending,
so thousands of fallback models held the event loop for seconds)."""

from __future__ import annotations

import dataclasses
import random

from emulator.catalogfile import builtin_catalog
from emulator.chatrequest import ChatRequest
from emulator.fallback import run_attempts
from emulator.routing import plan_route
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
