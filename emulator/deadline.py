"""Run a CPU-bound step of one request off the event loop, with a deadline.

Parsing, validating and generating for a hostile body (20 MiB of `[{}]`, a 100,000-value enum)
can take seconds of pure Python. `run_bounded` runs such a step in a fresh worker thread so the
event loop keeps answering other connections, and stops it when its budget is spent: the step's
thread gets `BudgetExceeded` raised inside it (CPython's `PyThreadState_SetAsyncExc`, delivered
at the next bytecode boundary), and the awaiting handler gets `BudgetExceeded` at the deadline.

A thread per step, not a pool: the asynchronous exception can then never land in a pool's own
bookkeeping, and a stopped step takes nothing down with it. At most `MAX_WORKERS` steps run at
once (others wait their turn, outside their budget), so a flood of hostile requests cannot fill
the process with threads.

Pure: no aiohttp; asyncio only to await the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
MAX_WORKERS = 4
_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int


class BudgetExceeded(Exception):
    """A step ran past its time budget; raised in the step's thread and to its awaiter."""


class _Step:
    """One step in its own thread; `stop()` ends it at its next bytecode, once only."""

    def __init__(self, fn: Callable[[], Any], done: Callable[[BaseException | None, Any], None]):
        self._fn = fn
        self._done = done
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._run, name="chat-emulator-step", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            try:
                result: Any = self._fn()
            except BaseException as exc:  # handed to the awaiting coroutine, never lost
                self._done(exc, None)
            else:
                self._done(None, result)
            finally:
                with self._lock:
                    self._running = False
        except BudgetExceeded:
            # stop() raced the step's end: the exception landed after the result was handed
            # over (inside the finally above); nothing is left to stop.
            pass

    def stop(self) -> None:
        with self._lock:
            ident = self._thread.ident
            if self._running and ident is not None:
                _set_async_exc(ident, ctypes.py_object(BudgetExceeded))


class Bounded:
    """Runs steps off the loop, at most `workers` at a time, each within its own budget."""

    def __init__(self, workers: int = MAX_WORKERS) -> None:
        self._slots = asyncio.Semaphore(workers)

    async def run(self, fn: Callable[[], T], budget_s: float) -> T:
        """`fn()` in a worker thread; its value, its exception, or BudgetExceeded once
        `budget_s` seconds (wall clock, from when it starts) have passed."""
        async with self._slots:
            loop = asyncio.get_running_loop()
            future: asyncio.Future[T] = loop.create_future()

            def settle(exc: BaseException | None, result: Any) -> None:
                # RuntimeError: the loop closed meanwhile (server stopped); nobody waits.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, future, exc, result)

            step = _Step(fn, settle)
            step.start()
            try:
                # wait_for cancels `future` on timeout, so a late result is dropped quietly.
                return await asyncio.wait_for(future, budget_s)
            except asyncio.TimeoutError:
                step.stop()
                raise BudgetExceeded(
                    f"the step ran past its budget of {budget_s * 1000:.0f} ms"
                ) from None
            except asyncio.CancelledError:
                step.stop()  # the client went away: its work is no longer wanted
                raise


def _settle(future: asyncio.Future[Any], exc: BaseException | None, result: Any) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
