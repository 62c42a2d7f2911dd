"""The recording proxy: a chat request goes to the upstream router with the caller's own
credentials; its answer streams back to the caller as it arrives (unbuffered, one write per
read) and is recorded as a scenario (`emulator.recording`) into the cassette (`emulator.cassette`).

The upstream is read by a task of its own, so a client that closes early (right after
`data: [DONE]`, as SDKs do) loses nothing: the recording still gets every byte and the end.
The caller's key is sent upstream and never kept: the journal redacts it, recordings redact it
wherever it appears.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from emulator import timeline, writer
from emulator.cassette import CassetteStore
from emulator.errors import RequestError
from emulator.journal import JournalEntry
from emulator.recording import DEFAULT_REDACT_FIELDS, Exchange, Redactor
from emulator.scenario import ErrorReply
from emulator.state import Selection
from emulator.timeline import Close, Drop, Event, Head, Send

if TYPE_CHECKING:
    from emulator.runtime import Emulator

log = logging.getLogger("emulator.record")
# Request headers that belong to one hop (or that the proxy sets itself): not forwarded.
HOP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-connection",
        "accept-encoding",
    }
)
_RESPONSE_SKIP = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}
)
_CONNECT_TIMEOUT_S = 30.0
_READ_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Forward:
    """What the chat handler does instead of playing a timeline: send this request upstream."""

    recorder: Recorder
    body: Any
    raw: bytes


class Recorder:
    """Forwards chat requests to `upstream` (a base URL such as `https://host/api/v1`) and
    records the answers into `store`, as its record mode says."""

    def __init__(
        self,
        upstream: str,
        store: CassetteStore,
        redact_fields: Iterable[str] = (),
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.store = store
        self.fields = (*DEFAULT_REDACT_FIELDS, *redact_fields)
        self._session: aiohttp.ClientSession | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    # --- the decision ---
    @property
    def records_all(self) -> bool:
        return self.store.records_all

    def on_miss(self, body: Any, raw: bytes, selection: Selection) -> Forward:
        """A request no recording matched: forward it, or (replay only) a 404 naming why."""
        if self.store.records_misses:
            return Forward(self, body, raw)
        misses = selection.near_misses
        closest = sorted(misses, key=lambda miss: len(miss[1]))[:3]
        message = f"no recording matched this request (record mode {self.store.mode})"
        if closest:
            message += "; closest: " + "; ".join(
                f"{name!r} ({', '.join(reasons)})" for name, reasons in closest
            )
        else:
            message += f"; nothing is recorded in {self.store.path}"
        raise RequestError(
            404,
            message,
            metadata={"near_misses": [{"scenario": n, "reasons": list(r)} for n, r in misses]},
            headers={"x-should-retry": "false"},
        )

    # --- forwarding ---
    async def forward(
        self, request: web.Request, plan: Forward, entry: JournalEntry, start: float
    ) -> web.StreamResponse:
        """Send the request upstream and play its answer to the client as it arrives."""
        redactor = self._redactor(request)
        entry.scenario = self.store.recorded.name_for(plan.body, redactor)
        queue: asyncio.Queue[Event] = asyncio.Queue()
        head: asyncio.Future[Head] = asyncio.get_running_loop().create_future()
        pump = asyncio.get_running_loop().create_task(
            self._pump(request, plan, redactor, head, queue)
        )
        self._pumps.add(pump)
        pump.add_done_callback(self._pumps.discard)
        try:
            started = await asyncio.shield(head)
        except RequestError as exc:
            reply = ErrorReply(exc.status, exc.message, exc.metadata, exc.headers)
            plan_error = timeline.error_response(reply)
            entry.status = plan_error.status
            return await writer.play(request, plan_error, entry, start=start)
        entry.status = started.status
        entry.generation_id = next(
            (v for k, v in started.headers if k.lower() == "x-generation-id"), None
        )
        return await writer.play_live(request, started, _drain(queue), entry, start=start)

    async def _pump(
        self,
        request: web.Request,
        plan: Forward,
        redactor: Redactor,
        head: asyncio.Future[Head],
        queue: asyncio.Queue[Event],
    ) -> None:
        """Read the upstream answer to its end, whatever the client does; then record it."""
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        arrivals: list[tuple[float, bytes]] = []
        try:
            async with self._client().post(
                f"{self.upstream}/chat/completions",
                data=plan.raw,
                headers=_forwarded(request),
            ) as upstream:
                head_at = loop.time()
                headers = tuple((str(k), str(v)) for k, v in upstream.headers.items())
                shown = tuple((k, v) for k, v in headers if k.lower() not in _RESPONSE_SKIP)
                head.set_result(Head(upstream.status, shown))
                complete = True
                try:
                    async for chunk in upstream.content.iter_any():
                        arrivals.append((round((loop.time() - head_at) * 1000, 3), chunk))
                        queue.put_nowait(Send(chunk, "raw"))
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    complete = False
                queue.put_nowait(Close() if complete else Drop())
                exchange = Exchange(
                    plan.body,
                    upstream.status,
                    headers,
                    round((head_at - sent_at) * 1000, 3),
                    tuple(arrivals),
                    complete,
                )
                self._record(exchange, redactor)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            if not head.done():
                head.set_exception(
                    RequestError(502, f"the upstream {self.upstream} is unreachable: {exc}")
                )
            else:
                queue.put_nowait(Drop())

    def _record(self, exchange: Exchange, redactor: Redactor) -> None:
        scenario = self.store.recorded.add(exchange, redactor)
        try:
            written = self.store.save(str(scenario["name"]))
        except OSError as exc:
            log.error("cannot write the recording %r: %s", scenario["name"], exc)
            return
        log.info("recorded %r into %s", scenario["name"], ", ".join(map(str, written[-1:])))

    def _redactor(self, request: web.Request) -> Redactor:
        secrets = []
        for name, value in request.headers.items():
            if name.lower() in ("authorization", "x-api-key", "api-key", "cookie"):
                secrets.append(value.split(" ", 1)[-1].strip())
        return Redactor(tuple(s for s in secrets if s), self.fields)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(
                total=None, sock_connect=_CONNECT_TIMEOUT_S, sock_read=_READ_TIMEOUT_S
            )
            self._session = aiohttp.ClientSession(auto_decompress=False, timeout=timeout)
        return self._session

    async def close(self) -> None:
        """Let answers still arriving finish (bounded), then close the upstream connections."""
        if self._pumps:
            await asyncio.wait(set(self._pumps), timeout=_CONNECT_TIMEOUT_S)
        if self._session is not None:
            await self._session.close()
            self._session = None


def _forwarded(request: web.Request) -> dict[str, str]:
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in HOP_HEADERS and not name.lower().startswith("x-emulator-")
    }
    headers["Accept-Encoding"] = "identity"  # the bytes as the upstream writes them
    return headers


async def _drain(queue: asyncio.Queue[Event]) -> AsyncIterator[Event]:
    while True:
        event = await queue.get()
        yield event
        if not isinstance(event, Send):
            return


def install(app: web.Application, emulator: Emulator) -> None:
    """Start recording on `app` as its config says (serve --record): the cassette's recordings
    are replayed (unless every request is recorded again), misses go upstream as the mode says."""
    config = emulator.config
    if config.record_mode is None or config.cassette is None:
        return
    store = CassetteStore(Path(config.cassette), config.record_mode)
    recorder = Recorder(config.upstream or "", store, config.redact_fields)
    start_recording(emulator, recorder)

    async def close(app: web.Application) -> None:
        await recorder.close()

    app.on_cleanup.append(close)


def start_recording(emulator: Emulator, recorder: Recorder) -> None:
    """Replay `recorder`'s cassette on `emulator` and send what it does not answer upstream."""
    replayed = recorder.store.replayed()
    emulator.state.add(replayed)
    recorder.store.reserve(emulator.state.names())
    emulator.recorder = recorder
