"""Upstreams for the recording tests, real servers on loopback: a small aiohttp server that sends
fixed bytes (chosen by the `x-case` header) with fixed pauses between writes, and a second
emulator in its own process for timing (a thread would share the GIL with the proxy)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiohttp import web

# Long enough that the proxy reads each write on its own even on a busy machine.
PAUSE_MS = 25.0
# Each case: the writes of the body, in order; a float is a pause (ms) between writes.
CHUNK = 'data: {"id":"gen-1-abc","choices":[{"index":0,"delta":{"content":"%s"}}]}'
CASES: dict[str, list[bytes | float | str]] = {
    "crlf": [
        b": OPENROUTER PROCESSING\r\n\r\n",
        PAUSE_MS,
        (CHUNK % "Hi").encode() + b"\r\n\r\n",
        PAUSE_MS,
        b"data: [DONE]\r\n\r\n",
    ],
    "comments": [
        b": OPENROUTER PROCESSING\n\n",
        PAUSE_MS,
        b": OPENROUTER PROCESSING\n\n",
        PAUSE_MS,
        (CHUNK % "Hi").encode() + b"\n\n" + (CHUNK % " there").encode() + b"\n\n",
        PAUSE_MS,
        b"data: [DONE]\n\n",
    ],
    "split-utf8": [
        (CHUNK % "Grüße 🦊").encode()[:69],
        PAUSE_MS,
        (CHUNK % "Grüße 🦊").encode()[69:76],
        PAUSE_MS,
        (CHUNK % "Grüße 🦊").encode()[76:] + b"\n\n",
        PAUSE_MS,
        b"data: [DONE]\n\n",
    ],
    "cut-after-done": [(CHUNK % "Hi").encode() + b"\n\n", PAUSE_MS, b"data: [DONE]\n\n", "cut"],
    "late-after-done": [
        (CHUNK % "Hi").encode() + b"\n\n",
        PAUSE_MS,
        b"data: [DONE]\n\n",
        80.0,
        b": late comment\n\n",
    ],
    "key-in-body": [
        b'{"id":"gen-2","choices":[],"metadata":{"api_key":"sk-or-v1-0123456789abcdef0123"}}'
    ],
}


class FixedServer:
    """An aiohttp server in a daemon thread answering POST .../chat/completions with CASES."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.seen: list[dict[str, str]] = []  # request headers, in arrival order
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.seen.append(dict(request.headers))
        case = CASES[request.headers["x-case"]]
        json_case = request.headers["x-case"] == "key-in-body"
        response = web.StreamResponse(
            headers={
                "Content-Type": "application/json" if json_case else "text/event-stream",
                "X-Generation-Id": "gen-1-abc",
                "Set-Cookie": "session=sk-or-v1-cookiecookiecookie",
            }
        )
        await response.prepare(request)
        for item in case:
            if item == "cut":
                assert request.transport is not None
                request.transport.close()
                return response
            elif isinstance(item, float):
                await asyncio.sleep(item / 1000)
            else:
                assert isinstance(item, bytes)
                await response.write(item)
        await response.write_eof()
        return response

    def start(self) -> FixedServer:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._answer)
            self._runner = web.AppRunner(app, access_log=None)
            self.loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            self.port = self._runner.addresses[0][1]
            ready.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        assert self._thread is not None
        self._thread.join(5)
        self.loop.close()


@contextmanager
def emulator_process(scenarios: Path) -> Iterator[str]:
    """`chat-emulator serve` in its own process on a free port; yields its root URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--scenarios", str(scenarios)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"serving on (http://\S+)", line)
            if found:
                yield found[1]
                return
        raise AssertionError("the upstream emulator did not start")
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
