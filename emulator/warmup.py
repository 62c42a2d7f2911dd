"""What a server prepares before it serves, or soon after: the tokenizer, the engines of rarer
requests, and `gc.freeze` of everything alive once start-up is over.

`before_serving` (the default of `create_app`, so the pytest fixture) builds the tokenizer
before the server answers. `in_background` (`chat-emulator serve`) answers sooner after it is
started: before serving it reads only the vocabulary's ASCII part (`tokens.count` counts ASCII
text with it until the tokenizer is built). Then the event loop itself, at moments when no chat
request is in flight (checked every CHECK_EVERY_S), collects and freezes start-up's objects
(10-20 ms), builds tiktoken's encoder (about 0.3 s, holding the interpreter lock wherever it
runs), then jsonschema's request validator, then Faker (about 0.1 s each), one step per such
moment. Done on the loop at such a moment, no stream is
playing while they run (not even one that started after the check, as with a thread); requests
arriving meanwhile wait for the step to end. Under a load that leaves no such moment, the steps
run LATEST_S after start all the same. After the last step, full garbage collections are run
at quiet moments too, not by CPython in the middle of streams (emulator.quietgc).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

from aiohttp import web

from emulator import quietgc, tokens
from emulator.handlers import EMULATOR
from emulator.quietgc import QuietCollections

FIRST_CHECK_S = 0.05
CHECK_EVERY_S = 0.05
LATEST_S = 10.0


async def before_serving(app: web.Application) -> None:
    """Build the tokenizer before the first request: otherwise the first request spends ~0.4 s
    on it and a scripted stream's first waits are already over when it starts playing.

    Then everything alive after start-up (modules, the vocabulary, scenarios) is moved out of
    the garbage collector's sight (`gc.freeze`): a full collection then walks only what live
    requests hold, so it no longer pauses every stream for tens of ms."""
    tokens.encoding()
    _freeze()


def _freeze() -> None:
    gc.collect()
    gc.freeze()


async def in_background(app: web.Application) -> None:
    """Read the vocabulary's ASCII part now; the rest once the server has started serving, one
    step per moment without open chat requests (module docstring)."""
    tokens.ascii_ranks()
    loop = asyncio.get_running_loop()
    emulator = app[EMULATOR]
    latest = loop.time() + LATEST_S
    steps: list[Callable[[], object]] = [
        _freeze,
        tokens.encoding,
        emulator.validator.prepare,
        lambda: emulator.generator.faker,
        _freeze,
    ]
    pending: list[asyncio.TimerHandle] = []

    def busy() -> bool:
        return any(not task.done() for task in emulator.open_tasks)

    collections = QuietCollections(loop.time, busy)

    def when_idle() -> None:
        if busy() and loop.time() < latest:
            pending[:] = [loop.call_later(CHECK_EVERY_S, when_idle)]
            return
        steps.pop(0)()  # on the loop: no stream is playing, and none starts meanwhile
        if steps:
            pending[:] = [loop.call_later(CHECK_EVERY_S, when_idle)]
        else:  # start-up's objects are frozen: from now on, full collections at quiet moments
            collections.start()
            pending[:] = [loop.call_later(quietgc.CHECK_EVERY_S, collect_when_quiet)]

    def collect_when_quiet() -> None:
        collections.tick()
        pending[:] = [loop.call_later(quietgc.CHECK_EVERY_S, collect_when_quiet)]

    async def cancel(_app: web.Application) -> None:
        for handle in pending:
            handle.cancel()
        collections.stop()

    pending.append(loop.call_later(FIRST_CHECK_S, when_idle))
    app.on_cleanup.append(cancel)
