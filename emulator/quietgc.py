"""Full garbage collections at quiet moments, not in the middle of paced streams.

CPython starts a full (generation 2) collection on its own once enough objects have survived
the younger collections. With hundreds of streams playing, and a journal of 1,000 requests, one
walks every object they hold: 8-12 ms measured with 350 concurrent streams, during which no
chunk of any stream is written. Every stream then misses its schedule by that much at once.

`QuietCollections` takes that decision over: automatic full collections are switched off
(`gc.set_threshold` with an unreachable third threshold; the young generations still collect
on their own, about 1 ms each), and `tick()`, called every CHECK_EVERY_S on the event loop,
runs the full collection itself when objects have been promoted since the last one and either
no chat request is in flight (at most once per FULL_EVERY_S) or FULL_LATEST_S have passed
under a load that leaves no quiet moment. Memory stays bounded: what only a full collection
frees (reference cycles that survived two younger collections) waits at most FULL_LATEST_S.

Only `chat-emulator serve` uses it (emulator.warmup); the pytest fixture keeps CPython's own
policy. Pure: no aiohttp; the clock, the busy check and the collection are passed in.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

CHECK_EVERY_S = 0.25
FULL_EVERY_S = 1.0
FULL_LATEST_S = 30.0
# A third threshold no count of younger collections reaches (gc.set_threshold takes a C int).
NEVER = 2**31 - 1


def young_collections() -> int:
    """How many generation-1 collections this process has run (each may promote objects)."""
    return int(gc.get_stats()[1]["collections"])


class QuietCollections:
    """Runs full collections at quiet moments (module docstring). Times in seconds, from
    `clock`; `busy()` is true while a chat request is in flight."""

    def __init__(
        self,
        clock: Callable[[], float],
        busy: Callable[[], bool],
        collect: Callable[[], object] = gc.collect,
        promoted: Callable[[], int] = young_collections,
    ) -> None:
        self._clock = clock
        self._busy = busy
        self._collect = collect
        self._promoted = promoted
        self._saved: tuple[int, int, int] | None = None
        self._last = clock()
        self._seen = promoted()
        self.full_collections = 0

    def start(self) -> None:
        """Switch CPython's automatic full collections off (the young ones stay on)."""
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, NEVER)

    def stop(self) -> None:
        """Give the thresholds back as they were before `start`."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def tick(self) -> bool:
        """Run a full collection if one is due now; True if it ran."""
        if self._promoted() == self._seen:  # nothing has reached the oldest generation since
            return False
        waited = self._clock() - self._last
        if waited < FULL_LATEST_S and (waited < FULL_EVERY_S or self._busy()):
            return False
        self._collect()
        self.full_collections += 1
        self._last = self._clock()
        self._seen = self._promoted()
        return True
