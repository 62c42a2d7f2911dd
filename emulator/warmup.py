"""What a server prepares before it serves, or soon after: the tokenizer, the engines of rarer
requests, and `gc.freeze` of everything alive once start-up is over.

`before_serving` (the default of `create_app`, so the pytest fixture) builds the tokenizer
before the server answers. `in_background` (`chat-emulator serve`) answers sooner after it is
started: before serving it reads only the vocabulary (`tokens.count` counts ASCII text with it
until the tokenizer is built); then, at the first moment no chat request is in flight (checked
every CHECK_EVERY_S from FIRST_CHECK_S on, and at the latest LATEST_S after start), a thread
builds tiktoken's encoder, jsonschema's request validator and Faker. Building the encoder holds
the interpreter lock for about 0.3 s: waiting for a moment without open requests keeps that
pause out of the streams being played; requests arriving meanwhile wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading

from aiohttp import web

from emulator import tokens
from emulator.handlers import EMULATOR
from emulator.runtime import Emulator

FIRST_CHECK_S = 0.1
CHECK_EVERY_S = 0.05
LATEST_S = 2.0


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
    """Read the vocabulary and freeze start-up's objects now; build the rest at the first
    moment without open chat requests after the server started serving (module docstring)."""
    tokens.ranks()
    gc.collect()
    gc.freeze()
    loop = asyncio.get_running_loop()
    emulator = app[EMULATOR]
    latest = loop.time() + LATEST_S
    pending: list[asyncio.TimerHandle] = []

    def check() -> None:
        busy = any(not task.done() for task in emulator.open_tasks)
        if busy and loop.time() < latest:
            pending[:] = [loop.call_later(CHECK_EVERY_S, check)]
            return
        threading.Thread(
            target=_prepare, args=(loop, emulator), name="chat-emulator-warm-up", daemon=True
        ).start()

    async def cancel(_app: web.Application) -> None:
        for handle in pending:
            handle.cancel()

    pending.append(loop.call_later(FIRST_CHECK_S, check))
    app.on_cleanup.append(cancel)


def _prepare(loop: asyncio.AbstractEventLoop, emulator: Emulator) -> None:
    tokens.encoding()
    emulator.validator.prepare()
    emulator.generator.faker  # noqa: B018 (the property builds the Faker instance)
    with contextlib.suppress(RuntimeError):  # RuntimeError: the server stopped meanwhile
        loop.call_soon_threadsafe(gc.freeze)
