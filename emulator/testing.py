"""EmulatorServer: the emulator on its own event loop in a daemon thread, on a free port of
127.0.0.1, for any client (sync or async, any library, a subprocess). Public test helper."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from emulator.app import create_app
from emulator.chaos import Chaos
from emulator.config import Config
from emulator.httpserver import Runner
from emulator.runtime import Emulator
from emulator.scenario import Scenario
from emulator.sessionurls import session_url
from emulator.testjournal import JournalView
from emulator.testkit import CallAssertions, callable_scenario, chaos_from

T = TypeVar("T")
log = logging.getLogger("emulator")
DEFAULT_API_KEY = "sk-emulator-test"
_STOP_TIMEOUT_S = 5.0


class ServerStartError(OSError):
    """The server could not listen (port busy, address not available): one line saying which
    address, why, and where the port came from."""


def _env_port() -> int:
    text = os.environ.get("CHAT_EMULATOR_PORT", "0")
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ServerStartError(f"CHAT_EMULATOR_PORT={text!r} is not a port number (0 to 65535)")
    return port


class EmulatorServer(JournalView, CallAssertions):
    """A real HTTP server; `start()` returns once it accepts connections (or raises
    ServerStartError when it cannot listen, e.g. a busy CHAT_EMULATOR_PORT)."""

    def __init__(
        self, config: Config | None = None, *, host: str | None = None, port: int | None = None
    ) -> None:
        # A test server binds to a free port unless told otherwise (argument, then environment).
        host = host or os.environ.get("CHAT_EMULATOR_HOST", "127.0.0.1")
        port = port if port is not None else _env_port()
        self.config = (config or Config()).replace(host=host, port=port)
        self.emulator = Emulator(self.config)
        self.api_key = self.config.api_keys[0] if self.config.api_keys else DEFAULT_API_KEY
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._since = 0  # requests up to this number are from before the last reset
        self._session: str | None = None  # see use_session

    # --- lifecycle ---
    def start(self) -> EmulatorServer:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="chat-emulator", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            if isinstance(failure[0], OSError):
                raise ServerStartError(self._cannot_listen(failure[0])) from None
            raise failure[0]
        return self

    def _cannot_listen(self, exc: OSError) -> str:
        where = f"{self.config.host}:{self.config.port}"
        origin = ""
        if self.config.port and os.environ.get("CHAT_EMULATOR_PORT") == str(self.config.port):
            origin = " (from CHAT_EMULATOR_PORT; unset it to use a free port)"
        return f"chat-emulator cannot listen on {where}{origin}: {exc.strerror or exc}"

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._start_site())
        except BaseException as exc:  # reported to the thread that called start()
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    async def _start_site(self) -> None:
        app = create_app(self.config, emulator=self.emulator)
        runner = Runner(app, self.config, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    def stop(self) -> None:
        """Cancel open streams, close the server, join the thread. Never hangs."""
        if self._thread is None or self._loop is None:
            return
        loop, runner = self._loop, self._runner

        async def shutdown() -> None:
            self.emulator.stopping = True
            await self.emulator.close_open_streams(_STOP_TIMEOUT_S, "shutdown")
            if runner is not None:
                await runner.cleanup()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(_STOP_TIMEOUT_S)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(_STOP_TIMEOUT_S)
            self._thread = None
            self._loop = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses ---
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def url(self) -> str:
        """The root URL, e.g. http://127.0.0.1:43817."""
        host = self.config.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI SDK's base_url: the root URL + /v1; bound to a session (`use_session`),
        that session's URL + /v1 (`http://HOST:PORT/session/NAME/v1`), so every client made
        from it is in the session without sending `headers`."""
        if self._session is not None:
            return session_url(self.url, self._session) + "/v1"
        return self.url + "/v1"

    def _session_root(self) -> str | None:
        return self.url if self._port is not None else None

    # --- state ---
    def load(self, *paths: str | os.PathLike[str]) -> list[Scenario]:
        """Load scenario files or directories (all or nothing)."""
        from emulator.loader import load_paths

        scenarios = load_paths([Path(p) for p in paths])
        self.emulator.state.add(scenarios)
        _warn_loops(scenarios)
        return scenarios

    def add(
        self,
        *scenarios: Mapping[str, Any] | str | Scenario | Callable[[Any], Any],
        name: str | None = None,
        match: Mapping[str, Any] | None = None,
        priority: int = 0,
    ) -> list[Scenario]:
        """Add scenarios given as dicts, YAML text or Scenario values, or a callable: each call
        of that scenario is answered by `fn(request)` (a ChatRequest: `.body`, `.messages`,
        `.headers`; sync or async) returning a reply mapping (`{"content": ...}`, or
        `{"reply"|"error"|"fault": ...}`) or a string. `name` (default the function's name),
        `match` and `priority` apply to callables."""
        from emulator.loader import load_data, load_text

        loaded: list[Scenario] = []
        for item in scenarios:
            if callable(item) and not isinstance(item, (Scenario, str, Mapping)):
                loaded.append(callable_scenario(item, name, match, priority))
            elif isinstance(item, Scenario):
                loaded.append(item)
            elif isinstance(item, str):
                loaded += load_text(item, "<string>")
            else:
                loaded += load_data(item, "<dict>")
        self.emulator.state.add(loaded)
        _warn_loops(loaded)
        return loaded

    def add_catalog(self, source: str | os.PathLike[str] | Mapping[str, Any]) -> None:
        """Apply a catalog file over the served model catalog until the next reset: a path,
        YAML text (anything with a newline), or a dict in the catalog-file format
        (docs/catalog.md). Raises ScenarioError (`file:line: message`) for a broken one."""
        from emulator.catalogfile import load_catalog_file, parse_catalog

        if isinstance(source, Mapping):
            parsed = parse_catalog(json.dumps(source), "<dict>")
        elif isinstance(source, str) and "\n" in source:
            parsed = parse_catalog(source, "<string>")
        else:
            parsed = load_catalog_file(Path(source))
        self.emulator.catalog = parsed.apply(self.emulator.catalog)

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's quota clock forward by `seconds`: rate-limit windows that end
        within them are over (GET /key, 429s)."""
        self.emulator.advance_clock(seconds)

    def reset(self, *, keep_journal: bool = False) -> None:
        """Fresh state for the next test: scenarios, counters, journal, settings; open streams
        are cancelled and awaited (bounded), so nothing a test left open bleeds into the next.
        `keep_journal`: earlier requests stay in the journal (for the inspector; numbering goes
        on) while `requests` shows only those after this reset. A recording is stopped (and
        written); a bound session (`use_session`) is unbound."""
        self.stop_recording()
        self._session = None
        self.call(self._reset(keep_journal))

    async def _reset(self, keep_journal: bool = False) -> None:
        await self._cancel_open_streams()
        self.emulator.reset(keep_journal=keep_journal)
        self._since = self.emulator.journal.last_seq if keep_journal else 0

    async def _cancel_open_streams(self) -> None:
        await self.emulator.close_open_streams(_STOP_TIMEOUT_S)

    def record(
        self,
        cassette: str | os.PathLike[str],
        mode: str = "new_episodes",
        upstream: str | None = None,
        redact: Iterable[str] = (),
    ) -> None:
        """Replay `cassette` and, as the record `mode` says, send what it does not answer to
        `upstream` (a base URL, e.g. `http://127.0.0.1:9000/v1`) and record it there; see
        docs/record-replay.md. Undone by `stop_recording()` (the fixture does it)."""
        from emulator.cassette import CassetteStore
        from emulator.proxy import Recorder, start_recording

        store = CassetteStore(Path(cassette), mode)
        if store.records_misses and not upstream:
            raise ValueError(f"record mode {mode!r} needs an upstream URL to record from")
        self.stop_recording()
        start_recording(self.emulator, Recorder(upstream or "", store, tuple(redact)))

    def stop_recording(self) -> None:
        """Stop recording: answers still arriving are finished and written first (bounded)."""
        recorder = self.emulator.recorder
        if recorder is None:
            return
        self.emulator.recorder = None
        if self._loop is not None:
            self.call(recorder.close(), timeout=60.0)

    @property
    def dropped_requests(self) -> int:
        """Journal entries let go since the last reset (journal limit or byte bound)."""
        return self.emulator.journal.dropped

    def call(self, coro: Any, timeout: float = _STOP_TIMEOUT_S) -> Any:
        """Run a coroutine on the server's loop from another thread and return its result."""
        if self._loop is None:
            raise RuntimeError("the server is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def configure(
        self,
        *,
        seed: int | None = None,
        strict: bool | None = None,
        time_scale: float | None = None,
        generation_lag_ms: float | None = None,
        generation_lag_polls: int | None = None,
        catalog_strict: bool | None = None,
        rpm: int | None = None,
        rpd: int | None = None,
        tpm: int | None = None,
        chaos: str | Mapping[str, Any] | Chaos | None = None,
        normalize: bool | str | list[str] | Mapping[str, Any] | None = None,
    ) -> None:
        """Per-test settings (the pytest marker uses this); reset() restores the config's.
        The generation lag hides a generation's stats (404) until it ended `generation_lag_ms`
        ago (times the time scale) and was polled `generation_lag_polls` times. `chaos` is the
        server's chaos spec (docs/chaos.md): the header's one-line syntax, a mapping like a
        scenario's `chaos:` key, or a Chaos; its request counts start again. Raises ValueError
        or ScenarioError for a bad one. `normalize` is the normalisation before matching of
        every scenario without its own (docs/agents.md): what a scenario's `normalize:` takes,
        or `serve --normalize`'s comma-separated rewrites; ValueError naming a bad one."""
        if normalize is not None:
            from emulator import normalize as normalization

            self.emulator.normalize = normalization.parse(normalize)
        if chaos is not None:
            self.emulator.chaos = chaos_from(chaos)
            self.emulator.chaos_counters.reset()
        if seed is not None:
            self.emulator.seed = seed
        if strict is not None:
            self.emulator.strict = strict
        if time_scale is not None:
            self.emulator.time_scale = time_scale
        if generation_lag_ms is not None:
            self.emulator.generation_lag_ms = generation_lag_ms
        if generation_lag_polls is not None:
            self.emulator.generation_lag_polls = int(generation_lag_polls)
        if catalog_strict is not None:
            self.emulator.catalog_strict = catalog_strict
        if rpm is not None or rpd is not None or tpm is not None:
            self.emulator.set_limits(rpm, rpd, tpm)


def _warn_loops(scenarios: list[Scenario]) -> None:
    """Log (logger `emulator`, level WARNING) each scenario that would loop an agent forever:
    a log record rather than a Python warning, so a test run with warnings as errors does not
    fail for a scenario that may be meant (pytest shows the record when the test fails)."""
    from emulator.turns import loop_warnings

    for message in loop_warnings(scenarios):
        log.warning("%s", message)


def serve_scenarios(scenarios: Iterable[Scenario], config: Config | None = None) -> EmulatorServer:
    """Start a server with `scenarios` loaded (a convenience for scripts and benchmarks)."""
    server = EmulatorServer(config).start()
    server.emulator.state.add(list(scenarios))
    return server
