"""Generation on the event loop and in a worker thread at the same time gives each the values its
seed gives alone: each thread has its own Faker instance (one shared instance handed one
request's draws to the other)."""

from __future__ import annotations

import json
import random
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.generate import Generator
from emulator.jsongen import generate_json

SMALL = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "city": {"type": "string"},
        "email": {"type": "string", "format": "email"},
    },
    "required": ["name", "city", "email"],
}
BIG = {"type": "array", "minItems": 200, "items": SMALL}


@pytest.fixture
def frequent_switches() -> Iterator[None]:
    """Make the interpreter switch threads often, so the two generations interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.0001)
    yield
    sys.setswitchinterval(before)


def _generate(generator: Generator, schema: Any, seed: int) -> str:
    rng = random.Random(seed)
    return json.dumps(generate_json(schema, rng, generator.seeded_faker(rng)))


@pytest.mark.usefixtures("frequent_switches")
def test_concurrent_generations_keep_their_own_values() -> None:
    """A long generation in a thread and short ones meanwhile on this thread: every value is
    the one its seed gives when generated alone."""
    generator = Generator()
    expected_small = [_generate(generator, SMALL, seed) for seed in range(50)]
    expected_big = _generate(generator, BIG, 7)
    big: list[str] = []

    def worker() -> None:
        big.extend(_generate(generator, BIG, 7) for _ in range(2))

    thread = threading.Thread(target=worker)
    thread.start()
    small_runs = 0
    while thread.is_alive() or small_runs == 0:
        assert [_generate(generator, SMALL, seed) for seed in range(50)] == expected_small
        small_runs += 1
    thread.join()
    assert big == [expected_big, expected_big]
