"""Full garbage collections at quiet moments (`chat-emulator serve`): CPython's automatic full
collections are switched off while the server runs and given back after; a full collection
runs when objects were promoted and no chat request is in flight, or after FULL_LATEST_S under
constant load."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from emulator import quietgc
from emulator.quietgc import QuietCollections


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _collections(
    clock: Clock, busy: list[bool], promoted: list[int]
) -> tuple[QuietCollections, list[float]]:
    ran: list[float] = []
    return (
        QuietCollections(
            clock,
            lambda: busy[0],
            collect=lambda: ran.append(clock.now),
            promoted=lambda: promoted[0],
        ),
        ran,
    )


def test_collects_at_a_quiet_moment_once_objects_were_promoted() -> None:
    """Nothing promoted: no collection, however long; promoted and quiet: one, at most one
    per FULL_EVERY_S."""
    clock, busy, promoted = Clock(), [False], [0]
    collections, ran = _collections(clock, busy, promoted)
    clock.now += 3600
    assert not collections.tick()
    promoted[0] += 1
    assert collections.tick()
    promoted[0] += 1
    clock.now += quietgc.FULL_EVERY_S / 2
    assert not collections.tick()
    clock.now += quietgc.FULL_EVERY_S / 2
    assert collections.tick()
    assert ran == [3700.0, 3701.0]
    assert collections.full_collections == 2


def test_waits_while_a_request_is_in_flight_up_to_the_latest() -> None:
    """While requests are in flight, no collection until FULL_LATEST_S since the last one; then
    one all the same (memory stays bounded under constant load)."""
    clock, busy, promoted = Clock(), [True], [5]
    collections, ran = _collections(clock, busy, promoted)
    promoted[0] += 1
    for _ in range(int(quietgc.FULL_LATEST_S / quietgc.CHECK_EVERY_S) - 1):
        clock.now += quietgc.CHECK_EVERY_S
        assert not collections.tick()
    clock.now += quietgc.CHECK_EVERY_S
    assert collections.tick()
    assert ran == [100.0 + quietgc.FULL_LATEST_S]
    busy[0] = False
    promoted[0] += 1
    clock.now += quietgc.FULL_EVERY_S
    assert collections.tick()


def test_thresholds_switched_and_given_back() -> None:
    """start() keeps the young thresholds and makes the oldest unreachable; stop() restores."""
    before = gc.get_threshold()
    collections = QuietCollections(Clock(), lambda: False)
    collections.start()
    try:
        assert gc.get_threshold() == (before[0], before[1], quietgc.NEVER)
        collections.start()  # a second start keeps the first saved thresholds
    finally:
        collections.stop()
    assert gc.get_threshold() == before
    collections.stop()
    assert gc.get_threshold() == before


def test_promoted_counts_young_collections() -> None:
    """young_collections() grows with each generation-1 collection."""
    first = quietgc.young_collections()
    gc.collect(1)
    assert quietgc.young_collections() == first + 1


# A server warmed up in the background (as `serve` makes it): after the warm-up, automatic full
# collections are off and a full collection runs at a quiet moment after requests; after
# cleanup the thresholds are CPython's again.
SCRIPT = """
import asyncio, gc, json
from aiohttp.test_utils import TestClient, TestServer
from emulator import app as app_module, quietgc, warmup
from emulator.config import Config

warmup.FIRST_CHECK_S = warmup.CHECK_EVERY_S = 0.01
quietgc.CHECK_EVERY_S = 0.01
quietgc.FULL_EVERY_S = 0.05
full = []
gc.callbacks.append(lambda phase, info: full.append(1) if phase == "stop" and info["generation"] == 2 else None)
before = gc.get_threshold()

async def main():
    app = app_module.create_app(Config(seed=1), background_warm_up=True)
    async with TestClient(TestServer(app)) as client:
        for _ in range(100):
            if gc.get_threshold()[2] == quietgc.NEVER:
                break
            await asyncio.sleep(0.05)
        during = gc.get_threshold()
        full.clear()
        for i in range(3):
            response = await client.post(
                "/v1/chat/completions",
                json={"model": "openai/gpt-4o", "messages": [{"role": "user", "content": str(i)}]},
                headers={"Authorization": "Bearer sk-test"},
            )
            assert response.status == 200
            gc.collect(1)  # objects promoted, as a server under load promotes them
        for _ in range(100):
            if full:
                break
            await asyncio.sleep(0.02)
    print(json.dumps({"before": before, "during": during, "after": gc.get_threshold(),
                      "full": len(full)}))

asyncio.run(main())
"""


def test_serve_collects_at_quiet_moments_and_restores_thresholds() -> None:
    """In an app warmed up as `serve` warms it, the oldest threshold is unreachable after the
    warm-up, a full collection runs at a quiet moment after requests, and cleanup restores the
    thresholds."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["during"] == [result["before"][0], result["before"][1], quietgc.NEVER]
    assert result["after"] == result["before"]
    assert result["full"] >= 1


@pytest.mark.parametrize("busy", [True, False])
def test_nothing_promoted_means_no_collection(busy: bool) -> None:
    """With no young collection since the last full one there is nothing new to free."""
    clock, promoted = Clock(), [0]
    collections, ran = _collections(clock, [busy], promoted)
    clock.now += quietgc.FULL_LATEST_S * 10
    assert not collections.tick()
    assert ran == []
