"""The pacer releases waiters in deadline order with one timer, and planning slots let at most
one plan run per loop iteration, in arrival order."""

from __future__ import annotations

import asyncio

from emulator.pacer import Pacer, PlanningSlots


async def test_waiters_are_released_in_deadline_order() -> None:
    """Waiters registered out of order complete in deadline order, ties in arrival order."""
    loop = asyncio.get_running_loop()
    pacer = Pacer(loop)
    order: list[str] = []
    now = loop.time()

    async def wait(name: str, delay: float) -> None:
        await pacer.wait_until(now + delay)
        order.append(name)

    await asyncio.gather(
        wait("c", 0.03), wait("a", 0.01), wait("b1", 0.02), wait("b2", 0.02), wait("z", 0.0)
    )
    assert order == ["z", "a", "b1", "b2", "c"]
    assert len(pacer) == 0


async def test_a_cancelled_waiter_does_not_hold_back_the_others() -> None:
    """Cancelling a waiter (a client gone) leaves later waiters on time and the heap empty."""
    loop = asyncio.get_running_loop()
    pacer = Pacer(loop)
    first = pacer.wait_until(loop.time() + 0.01)
    later = pacer.wait_until(loop.time() + 0.02)
    first.cancel()
    await later
    assert later.done() and not later.cancelled()
    assert len(pacer) == 0


async def test_no_deadline_is_released_early() -> None:
    """A waiter never completes before its deadline on the loop clock."""
    loop = asyncio.get_running_loop()
    pacer = Pacer(loop)
    deadlines = [loop.time() + d for d in (0.005, 0.015, 0.01)]
    released: list[tuple[float, float]] = []

    async def wait(at: float) -> None:
        await pacer.wait_until(at)
        released.append((at, loop.time()))

    await asyncio.gather(*(wait(d) for d in deadlines))
    assert all(when >= at - 0.001 for at, when in released)  # asyncio's own clock slack


async def test_one_plan_per_loop_iteration_in_arrival_order() -> None:
    """Ten requests arriving together plan in arrival order, one per loop iteration, with a
    callback scheduled meanwhile running between two of them."""
    loop = asyncio.get_running_loop()
    slots = PlanningSlots(loop)
    events: list[str] = []

    async def plan(name: str) -> None:
        await slots.turn()
        events.append(name)

    tasks = [asyncio.create_task(plan(f"p{i}")) for i in range(10)]
    loop.call_soon(events.append, "timer")  # due while the burst is being planned
    await asyncio.gather(*tasks)
    plans = [e for e in events if e != "timer"]
    assert plans == [f"p{i}" for i in range(10)]
    assert 0 < events.index("timer") < len(events) - 1


async def test_a_lone_request_plans_at_once() -> None:
    """With nobody waiting, a turn is granted without waiting for another loop iteration."""
    loop = asyncio.get_running_loop()
    slots = PlanningSlots(loop)
    events: list[str] = []
    loop.call_soon(events.append, "next iteration")
    await slots.turn()  # granted at once: nothing else ran meanwhile
    assert events == []
    await slots.turn()  # a second plan in the same iteration waits for a later one
    assert events == ["next iteration"]
