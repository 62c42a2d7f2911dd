"""What a server prepares before it serves, or soon after: the tokenizer, the engines of rarer
requests, and `gc.freeze` of everything alive once start-up is over.

`before_serving` (the default of `create_app`, so the pytest fixture) builds the tokenizer
before the server answers. `in_background` (`chat-emulator serve`) answers sooner after it is
started: before serving it reads only the vocabulary (`tokens.count` counts ASCII text with it
until the tokenizer is built). Then, at the first moment no chat request is in flight (checked
every CHECK_EVERY_S), a thread imports tiktoken and builds jsonschema's request validator and
Faker (Python code: the event loop keeps its turns meanwhile), and after that, again at a moment
with no chat request in flight, the event loop itself builds tiktoken's encoder. That takes
about 0.3 s holding the interpreter lock, so it is done where no stream can be playing: requests
arriving meanwhile wait for it. Under load that leaves no such moment, it is built LATEST_S after
start all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Callable

from aiohttp import web

from emulator import tokens
from emulator.handlers import EMULATOR
from emulator.runtime import Emulator

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
    gc.collect()
    gc.freeze()


async def in_background(app: web.Application) -> None:
    """Read the vocabulary and freeze start-up's objects now; the rest once the server has
    started serving, at moments without open chat requests (module docstring)."""
    tokens.ranks()
    gc.collect()
    gc.freeze()
    loop = asyncio.get_running_loop()
    emulator = app[EMULATOR]
    latest = loop.time() + LATEST_S
    pending: list[asyncio.TimerHandle] = []

    def when_idle(step: str) -> None:
        if any(not task.done() for task in emulator.open_tasks) and loop.time() < latest:
            pending[:] = [loop.call_later(CHECK_EVERY_S, when_idle, step)]
        elif step == "imports":
            threading.Thread(
                target=_import,
                args=(loop, emulator, when_idle),
                name="chat-emulator-warm-up",
                daemon=True,
            ).start()
        else:
            tokens.encoding()  # on the loop: no stream is playing, none starts meanwhile
            gc.freeze()

    async def cancel(_app: web.Application) -> None:
        for handle in pending:
            handle.cancel()

    pending.append(loop.call_later(FIRST_CHECK_S, when_idle, "imports"))
    app.on_cleanup.append(cancel)


def _import(
    loop: asyncio.AbstractEventLoop, emulator: Emulator, then: Callable[[str], None]
) -> None:
    import tiktoken  # noqa: F401 (imported here so the loop's build below is only the build)

    emulator.validator.prepare()
    emulator.generator.faker  # noqa: B018 (the property builds the Faker instance)
    with contextlib.suppress(RuntimeError):  # RuntimeError: the server stopped meanwhile
        loop.call_soon_threadsafe(then, "encoder")
