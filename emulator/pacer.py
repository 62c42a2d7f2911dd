"""One timer for every paced stream of a loop, and planning slots that keep arrivals from holding
back chunks already due.

Without it each waiting stream owns an `asyncio.sleep` timer: 100 streams at 10 ms are 10,000
timer handles a second, and when many requests arrive in one read their plans run back to back
in one loop iteration, late by the sum of them. The pacer keeps one heap of deadlines and arms a
single `loop.call_at` for the earliest; when it fires, every waiter that is due is released in
deadline order (ties in arrival order), so all streams due at an instant are woken by one
callback. Planning slots hand out one plan per loop iteration, so due timers run between them.

No aiohttp here: it needs only the running asyncio loop.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque


class Pacer:
    """Deadline waits (loop clock, seconds) released by one timer callback per instant."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for = float("inf")
        # A deadline this close to now is due (asyncio's own timers use the same slack).
        self._slack = loop._clock_resolution if hasattr(loop, "_clock_resolution") else 1e-9

    def wait_until(self, deadline: float) -> asyncio.Future[None]:
        """A future that completes at `deadline` (loop time, s). Cancelling it is safe."""
        future: asyncio.Future[None] = self._loop.create_future()
        heapq.heappush(self._heap, (deadline, next(self._order), future))
        if deadline < self._armed_for:
            self._arm(deadline)
        return future

    def _arm(self, deadline: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed_for = deadline
        self._timer = self._loop.call_at(deadline, self._release)

    def _release(self) -> None:
        self._timer = None
        self._armed_for = float("inf")
        due = self._loop.time() + self._slack
        heap = self._heap
        while heap and heap[0][0] <= due:
            future = heapq.heappop(heap)[2]
            if not future.done():
                future.set_result(None)
        while heap and heap[0][2].done():  # cancelled waiters need no timer of their own
            heapq.heappop(heap)
        if heap:
            self._arm(heap[0][0])

    def __len__(self) -> int:
        """Waiters not yet released (cancelled ones included until their deadline)."""
        return len(self._heap)


class PlanningSlots:
    """At most one request plan per loop iteration, in arrival order.

    `await slots.turn()` returns at once when no plan ran in this iteration and nobody waits;
    otherwise it waits for a later iteration. Timers that fall due in between (chunks of streams
    already playing) run between two plans, so a burst of arrivals delays them by one plan
    (about a millisecond), not by the sum of all of them. Nothing is held across an await: the
    plan itself may await (a worker thread) without stopping others.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._used = False

    async def turn(self) -> None:
        """Wait until this request may plan (see the class docstring)."""
        if not self._used and not self._waiting:
            self._used = True
            self._loop.call_soon(self._tick)
            return
        future: asyncio.Future[None] = self._loop.create_future()
        self._waiting.append(future)
        await future

    def _tick(self) -> None:
        self._used = False
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():  # a cancelled waiter (client gone) gives up its place
                future.set_result(None)
                self._used = True
                break
        if self._used:
            self._loop.call_soon(self._tick)
