"""Every response, streaming or not, compiles to a timeline of wire events that one writer
plays: Head (status and headers), Send (bytes: a body, a data event, a comment, raw bytes),
Wait (relative; the writer turns waits into absolute deadlines), Close, Drop (end abruptly).

This module holds the events and the timelines of JSON bodies, errors and faults. A stream's
timeline is built by `streams.stream_response` (with `streambuilder`, `deltas` and
`streamevents`): the streaming shortcuts of a scenario (chunking, ttft, intervals, keepalive,
error_after, disconnect_after, framing) are sugar that builds the same timeline `stream.events`
writes by hand. Pure: no I/O, no clock; jitter comes from the request's seeded generator.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from emulator import protocol
from emulator.protocol import Completion
from emulator.scenario import (
    ErrorBody,
    ErrorReply,
    Fault,
)


@dataclass(frozen=True)
class Head:
    status: int
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Send:
    data: bytes
    kind: str  # body | data | comment | done | error | raw


@dataclass(frozen=True)
class Wait:
    """A pause of `ms` milliseconds. The server's time scale multiplies it unless `scaled` is
    False: the waits of `fault: hang` and `framing.stall_ms` exist to make a client time out,
    so a fast suite (time scale 0.1 or 0) still sees them whole."""

    ms: float
    scaled: bool = True


@dataclass(frozen=True)
class Close:
    """Finish the response normally (the chunked terminator for a stream)."""


@dataclass(frozen=True)
class Drop:
    """End the connection abruptly: a TCP reset, or a plain close with no terminator."""

    reset: bool = False


Event = Head | Send | Wait | Close | Drop


class Timeline:
    """A response's wire events, `events`, in order; `stream`: an SSE response; `coalesce`:
    whole SSE events due at the same instant may share one write (no framing fault asks for
    each piece on its own).

    A stream's events after its head may be made as they are played (`rest`, an iterator that
    makes each event when asked for it): `play()` hands them out one at a time, so a long
    stream costs its first events' work before its first byte and each later chunk is
    serialised when it falls due. `events`, for the code that needs the whole list (stream
    faults, fuzz, tests), makes the rest at once the first time it is read: the same events
    either way. Reading `events` after `play()` has started is a RuntimeError (the events
    played are not kept)."""

    __slots__ = ("_events", "_played", "_rest", "coalesce", "stream")

    def __init__(
        self,
        events: tuple[Event, ...],
        stream: bool = False,
        coalesce: bool = False,
        rest: Iterator[Event] | None = None,
    ) -> None:
        self._events = events
        self._rest = rest
        self._played = False
        self.stream = stream
        self.coalesce = coalesce

    @property
    def events(self) -> tuple[Event, ...]:
        """Every event, the lazy rest made now (once) if it was not yet."""
        if self._rest is not None:
            if self._played:
                raise RuntimeError("a lazy timeline's events are gone once it has been played")
            self._events = (*self._events, *self._rest)
            self._rest = None
        return self._events

    def whole(self) -> Timeline:
        """This timeline with every event made now (see `events`)."""
        self.events  # noqa: B018 (reading them makes the lazy rest)
        return self

    @property
    def lazy(self) -> bool:
        """Whether events remain to be made (see the class docstring)."""
        return self._rest is not None

    def play(self) -> Iterator[Event]:
        """Every event in order, a lazy one made when the iterator is asked for it."""
        if self._rest is None:
            return iter(self._events)
        self._played = True
        return itertools.chain(self._events, self._rest)

    @property
    def status(self) -> int | None:
        """The status of its Head (None without one); a lazy timeline's head is made first."""
        found = next((e.status for e in self._events if isinstance(e, Head)), None)
        if found is not None or self._rest is None:
            return found
        return next((e.status for e in self.events if isinstance(e, Head)), None)

    def __repr__(self) -> str:
        events = f"{self._events!r} + lazy rest" if self._rest is not None else repr(self._events)
        return f"Timeline({events}, stream={self.stream}, coalesce={self.coalesce})"


@dataclass(frozen=True)
class StreamDefaults:
    """Server-wide defaults a reply's `stream` block may override."""

    usage_chunk: str = "empty_choices"
    keepalive_text: str = "OPENROUTER PROCESSING"
    keepalive_ms: float = 0.0


# The default mid-stream error (errors-and-debugging docs "Mid-stream errors"): a provider that
# went away after the first token; metadata becomes {"error_type": "provider_unavailable"}.
DEFAULT_STREAM_ERROR = ErrorBody(502, "Provider returned error")


# --- JSON, errors and faults -----------------------------------------------------------------


def json_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None, delay_ms: float = 0.0
) -> Timeline:
    data = protocol.dumps(body).encode()
    head = (("Content-Type", protocol.JSON_CONTENT_TYPE), *dict(headers or {}).items())
    events: list[Event] = [Wait(delay_ms)] if delay_ms > 0 else []
    events += [Head(status, head), Send(data, "body"), Close()]
    return Timeline(tuple(events))


def completion_response(
    completion: Completion, delay_ms: float = 0.0, headers: Mapping[str, str] | None = None
) -> Timeline:
    head = {"X-Generation-Id": completion.id, **dict(headers or {})}
    return json_response(200, completion.to_json(), head, delay_ms)


def body_response(
    status: int, body: str, headers: Mapping[str, str] | None = None, delay_ms: float = 0.0
) -> Timeline:
    """A JSON response whose body is given as exact text (a recorded or exported reply)."""
    head = (("Content-Type", protocol.JSON_CONTENT_TYPE), *dict(headers or {}).items())
    events: list[Event] = [Wait(delay_ms)] if delay_ms > 0 else []
    events += [Head(status, head), Send(body.encode(), "body"), Close()]
    return Timeline(tuple(events))


def error_response(
    error: ErrorReply,
    model: str | None = None,
    created: int = 0,
    router_metadata: Mapping[str, Any] | None = None,
) -> Timeline:
    """An HTTP error in the router's envelope (errors-and-debugging docs): `metadata.error_type`
    always, `availability` with `requested_models` filled with `model` when the reply leaves it
    out, X-RateLimit-* headers for the router's own 429 (Reset: `created` s + the window, in unix
    ms), and `openrouter_metadata` beside `error` when given."""
    body: dict[str, Any] = {"error": error_body(error.inner(), model)}
    if router_metadata is not None:
        body["openrouter_metadata"] = dict(router_metadata)
    headers = dict(error.headers)
    if error.rate_limit is not None:
        limit = error.rate_limit
        headers.setdefault("X-RateLimit-Limit", str(limit.limit))
        headers.setdefault("X-RateLimit-Remaining", str(limit.remaining))
        headers.setdefault("X-RateLimit-Reset", str(created * 1000 + limit.reset_ms))
    return json_response(error.status, body, headers, error.delay_ms)


def error_body(error: ErrorBody, model: str | None = None) -> dict[str, Any]:
    """The inner error object of `error`, an availability error's `requested_models` filled
    with `model` when the scenario leaves it out."""
    out = error.to_json()
    availability = out.get("availability")
    if isinstance(availability, dict) and model and not availability.get("requested_models"):
        keys = list(availability)
        availability["requested_models"] = [model]
        # The docs' order: code, retryable, retry_after?, requested_models, ..., docs_url
        order = [k for k in keys if k in ("code", "retryable", "retry_after")]
        order += ["requested_models"] + [k for k in keys if k not in order]
        out["availability"] = {k: availability[k] for k in order}
    return out


def fault_response(fault: Fault) -> Timeline:
    if fault.kind == "reset":
        return Timeline((Drop(reset=True),))
    if fault.kind == "empty":
        return Timeline((Drop(reset=False),))
    if fault.kind == "hang":
        return Timeline((Wait(fault.max_ms, scaled=False), Drop(reset=False)))
    body = (fault.body if fault.body is not None else '{"id": "gen-broken", "choices": [').encode()
    head = (("Content-Type", protocol.JSON_CONTENT_TYPE),)
    return Timeline((Head(200, head), Send(body, "body"), Close()))
