"""Plays a timeline onto the socket: the only code that writes response bytes.

Waits are absolute deadlines on the event loop clock (start + sum of waits, times the time
scale), so a long stream does not drift. A client that goes away stops the timeline at once.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import HttpVersion11, hdrs, web

from emulator.journal import JournalEntry
from emulator.pacer import Pacer
from emulator.timeline import Close, Drop, Event, Head, Send, Timeline, Wait

# Longest single sleep: a closed connection is noticed at least this often while waiting,
# even when the server was started without handler cancellation.
_POLL_S = 0.1
# Send kinds that are whole SSE events, which may share a write with their neighbours.
COALESCED = frozenset({"data", "comment", "done", "error"})


class ClientGone(Exception):
    """The client closed the connection before the timeline finished."""


async def play(
    request: web.Request,
    timeline: Timeline,
    entry: JournalEntry,
    *,
    start: float,
    time_scale: float = 1.0,
    clock: Callable[[], float] | None = None,
    pacer: Pacer | None = None,
) -> web.StreamResponse:
    """Play `timeline` for `request`; record every event in `entry` with its time since `start`
    (a wait is recorded when its deadline has passed, with its scheduled ms as data).

    Waits go through `pacer` (one timer for all streams) when given and the clock is the loop's.
    A timeline marked `coalesce` sends consecutive whole events (data, comment, done, error) that
    fall due at the same instant in one write: the same bytes at the same time, fewer writes;
    split pieces and raw bytes always keep their own writes. A lazy timeline's events are made
    as they are taken (`Timeline.play`): one event ahead where a write depends on the next."""
    loop = asyncio.get_running_loop()
    now = clock or loop.time
    deadline = start
    entry.time_scale = time_scale
    response: web.StreamResponse | None = None

    def record(kind: str, data: bytes | str = b"") -> None:
        if isinstance(data, bytes):
            try:
                text = data.decode()
            except UnicodeDecodeError:  # kept exactly beside the readable form
                text = data.decode("utf-8", "backslashreplace")
                entry.binary[len(entry.played)] = data
        else:
            text = data
        entry.played.append((round((now() - start) * 1000, 3), kind, text))

    # Each event is journaled just before its bytes go out, so a client that has received them
    # (or the end of the response) finds them in the journal; one whose write fails is dropped.
    played = 0
    whole = _whole_body(timeline)
    wait_until = pacer.wait_until if pacer is not None and clock is None else None
    # A lazy stream makes each event when it is taken: the next one is looked at (`ahead`)
    # only where a write depends on it, never across a wait.
    source = timeline.play()
    ahead: Event | None = None
    index = 0
    try:
        while True:
            if ahead is not None:
                event, ahead = ahead, None
            elif (taken := next(source, None)) is not None:
                event = taken
            else:
                break
            index += 1
            if index - 1 == whole and isinstance(event, Head):
                return _whole_response(event, next(source), record, entry, now, start)
            if isinstance(event, Wait):
                deadline += event.ms / 1000 * (time_scale if event.scaled else 1.0)
                await _sleep_until(request, deadline, now, wait_until)
                # the scheduled (unscaled) ms; a "hold" is a wait the time scale never shortens
                record("wait" if event.scaled else "hold", str(round(event.ms, 3)))
            elif isinstance(event, Head):
                record("head", str(event.status))
                entry.response_headers = dict(event.headers)
                # Headers wait for the first event when it is due now, leaving in its write.
                ahead = next(source, None) if timeline.coalesce else None
                ready = isinstance(ahead, Send)
                response = await _prepare(request, event, with_first_write=ready)
                entry.response_headers = _sent_headers(event, response)
            elif isinstance(event, Send):
                if response is None:
                    raise RuntimeError("a timeline sent bytes before its head")
                record(event.kind, event.data)
                if not timeline.coalesce or event.kind not in COALESCED:
                    await response.write(event.data)
                else:
                    # Whole events due at the same instant leave in one write (same bytes).
                    parts = [event.data]
                    while True:
                        ahead = next(source, None) if ahead is None else ahead
                        if not isinstance(ahead, Send) or ahead.kind not in COALESCED:
                            break
                        record(ahead.kind, ahead.data)
                        parts.append(ahead.data)
                        ahead = None
                    data = parts[0] if len(parts) == 1 else b"".join(parts)
                    if isinstance(ahead, Close):
                        # The last events leave with the terminator, journaled (close too)
                        # before: a client that stops reading at `[DONE]` finds it all there.
                        ahead = None
                        _complete(record, entry, now, start)
                        await response.write_eof(data)
                    else:
                        await response.write(data)
            elif isinstance(event, Close):
                _complete(record, entry, now, start)
                if response is not None:
                    await response.write_eof()
            elif isinstance(event, Drop):
                record("reset" if event.reset else "drop")
                entry.outcome = "reset" if event.reset else "dropped"
                _drop(request, event.reset)
                return response or _closed_response()
            played = len(entry.played)
    except (ConnectionError, ClientGone, asyncio.CancelledError) as exc:
        del entry.played[played:]
        entry.client_aborted = True
        entry.aborted_after = len(entry.played)
        entry.outcome = "client_aborted"
        if isinstance(exc, asyncio.CancelledError):
            raise
        return response or _closed_response()
    return response or _closed_response()


def _complete(
    record: Callable[[str, bytes | str], None],
    entry: JournalEntry,
    now: Callable[[], float],
    start: float,
) -> None:
    record("close", "")
    entry.outcome = "completed"
    entry.duration_ms = round((now() - start) * 1000, 3)


def _whole_body(timeline: Timeline) -> int | None:
    """The index of the Head when the timeline ends Head, Send(body), Close: such a response is
    sent as one web.Response (headers and body in one write, with a Content-Length)."""
    if timeline.lazy:  # only a stream is made lazily
        return None
    events = timeline.events
    if len(events) >= 3 and isinstance(events[-3], Head) and isinstance(events[-1], Close):
        body = events[-2]
        if isinstance(body, Send) and body.kind == "body":
            return len(events) - 3
    return None


def _whole_response(
    head: Head,
    body: Event,
    record: Callable[[str, bytes | str], None],
    entry: JournalEntry,
    now: Callable[[], float],
    start: float,
) -> web.Response:
    assert isinstance(body, Send)
    record("head", str(head.status))
    entry.response_headers = dict(head.headers)
    record(body.kind, body.data)
    record("close", "")
    entry.outcome = "completed"
    entry.duration_ms = round((now() - start) * 1000, 3)
    response = web.Response(status=head.status, body=body.data)
    for name, value in head.headers:
        response.headers[name] = value
    return response


async def _prepare(
    request: web.Request, head: Head, *, with_first_write: bool = False
) -> web.StreamResponse:
    """Start the response: status line and headers. `with_first_write`: the first body bytes
    follow at once, so the headers wait for them and both leave in one write (one send, same
    bytes and timing); otherwise the headers leave now, as a client waiting for them needs."""
    response = web.StreamResponse(status=head.status)
    for name, value in head.headers:
        response.headers[name] = value
    if request.version < HttpVersion11 and response.content_length is None:
        # HTTP/1.0 has no chunked encoding: the body ends when the connection closes, so it
        # must close (aiohttp would keep it open for a client asking keep-alive) and the head
        # must not promise otherwise.
        response.force_close()
        response.headers[hdrs.CONNECTION] = "close"
    if with_first_write:
        # aiohttp buffers a response's headers until its first write when this is False (its
        # non-streaming Response does so); an aiohttp without it sends them at once, as before.
        response._send_headers_immediately = False
    await response.prepare(request)
    return response


def _sent_headers(head: Head, response: web.StreamResponse) -> dict[str, str]:
    """The head's headers as sent: `_prepare` may have replaced Connection (HTTP/1.0)."""
    sent = dict(head.headers)
    connection = response.headers.get(hdrs.CONNECTION)
    if connection is not None:
        name = next((k for k in sent if k.lower() == "connection"), "Connection")
        sent[name] = connection
    return sent


async def _sleep_until(
    request: web.Request,
    deadline: float,
    now: Callable[[], float],
    wait_until: Callable[[float], Awaitable[None]] | None,
) -> None:
    while True:
        if _gone(request):
            raise ClientGone()
        at = now()
        left = deadline - at
        if left <= 0:
            return
        if wait_until is not None:
            await wait_until(min(deadline, at + _POLL_S))
        else:
            await asyncio.sleep(min(left, _POLL_S))


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _drop(request: web.Request, reset: bool) -> None:
    """Close the connection under the response: RST (SO_LINGER 0) or a FIN with no terminator."""
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


def _closed_response() -> web.StreamResponse:
    """What a handler returns once the connection is gone: aiohttp sends nothing on a closed
    transport, and a prepared-looking response keeps it from writing a 200 of its own."""
    return web.Response(status=499)


async def play_live(
    request: web.Request,
    head: Head,
    events: AsyncIterator[Event],
    entry: JournalEntry,
    *,
    start: float,
) -> web.StreamResponse:
    """Play a timeline that is still arriving (a proxied upstream answer): `head`, then each
    Send as soon as `events` yields it (no waits: the source sets the pace), until a Close or a
    Drop. Every event is journaled as `play` does. A client that goes away ends only this
    playing (`client_aborted`); the source is not consumed further here."""
    now = asyncio.get_running_loop().time

    def record(kind: str, data: bytes = b"") -> None:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            text = data.decode("utf-8", "backslashreplace")
            entry.binary[len(entry.played)] = data
        entry.played.append((round((now() - start) * 1000, 3), kind, text))

    record("head", str(head.status).encode())
    entry.response_headers = dict(head.headers)
    response: web.StreamResponse | None = None
    played = len(entry.played)
    try:
        response = await _prepare(request, head)
        entry.response_headers = _sent_headers(head, response)
        async for event in events:
            if isinstance(event, Send):
                record(event.kind, event.data)
                await response.write(event.data)
            elif isinstance(event, Close):
                record("close")
                entry.outcome = "completed"
                await response.write_eof()
                break
            elif isinstance(event, Drop):
                record("reset" if event.reset else "drop")
                entry.outcome = "reset" if event.reset else "dropped"
                _drop(request, event.reset)
                break
            played = len(entry.played)
    except (ConnectionError, asyncio.CancelledError) as exc:
        del entry.played[played:]
        entry.client_aborted = True
        entry.aborted_after = len(entry.played)
        entry.outcome = "client_aborted"
        if isinstance(exc, asyncio.CancelledError):
            raise
    return response or _closed_response()
