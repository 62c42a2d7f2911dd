"""What each request was, what matched, what was actually played and how it ended. Bounded."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

REDACTED = "<redacted>"
_SECRET_HEADERS = ("authorization", "x-api-key", "api-key")


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names lower-cased; credentials replaced by a marker that keeps the scheme."""
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in _SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] + " " if " " in value else ""
            value = scheme + REDACTED
        out[key] = value
    return out


class PlayedEvent(NamedTuple):
    """One event as played: milliseconds since the request arrived, its kind, what was sent."""

    t_ms: float
    kind: str  # head | body | data | comment | done | error | raw | wait | close | drop | reset
    data: str = ""


@dataclass
class JournalEntry:
    seq: int
    method: str
    path: str
    headers: dict[str, str]
    started_at: float  # unix time the request arrived
    body: Any = None
    stream: bool = False
    scenario: str | None = None
    call_number: int | None = None
    # Scenarios that did not match, with why (highest priority first); empty when one matched.
    near_misses: list[dict[str, Any]] = field(default_factory=list)
    status: int | None = None
    validation_errors: list[dict[str, str]] = field(default_factory=list)
    ignored_params: list[str] = field(default_factory=list)
    # What was played, as plain (t_ms, kind, data) tuples: the garbage collector stops tracking
    # exact tuples of strings and floats, and a full journal holds tens of thousands of events
    # (as tracked objects they made full collections take 100 ms). Read them as `events`.
    played: list[tuple[float, str, str]] = field(default_factory=list)
    client_aborted: bool = False
    aborted_after: int | None = None  # how many events were played before the client went away
    # The exact bytes of played events that are not UTF-8 text (a piece of a split stream cut
    # inside a character), by index in `played`, whose data shows them backslash-escaped.
    binary: dict[int, bytes] = field(default_factory=dict)
    # The headers of the response head as the timeline gave them (not aiohttp's own).
    response_headers: dict[str, str] = field(default_factory=dict)
    outcome: str = "pending"  # pending | completed | client_aborted | dropped | reset | failed
    duration_ms: float | None = None
    generation_id: str | None = None
    completion: dict[str, Any] | None = None  # model, provider, usage, finish reasons, ...
    error: str | None = None  # an unexpected server error, summarised
    # The time scale the writer played waits at: an event's scheduled time is the sum of the
    # (unscaled) waits before it times this.
    time_scale: float = 1.0

    @property
    def events(self) -> list[PlayedEvent]:
        """The played events, oldest first."""
        return [PlayedEvent(*event) for event in self.played]

    def sent_bytes(self, index: int) -> bytes:
        """The exact bytes event `index` of `played` wrote (its data re-encoded, unless binary)."""
        exact = self.binary.get(index)
        return exact if exact is not None else self.played[index][2].encode()

    @property
    def finished(self) -> bool:
        return self.outcome != "pending"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        del out["played"], out["binary"]
        out["events"] = [event._asdict() for event in self.events]
        return out


# A journal listener gets ("open" | "finish", entry) or ("clear", None).
Listener = Callable[[str, "JournalEntry | None"], None]


class Journal:
    """The request journal: oldest first, at most `limit` entries; safe to read from any thread.

    Listeners (the inspector's event stream) hear of every opened and finished entry and of
    every clear; they are called synchronously and must not block."""

    def __init__(self, limit: int = 1000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=max(1, limit))
        self._lock = threading.Lock()
        self._seq = 0
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` on every open, finish and clear until `unsubscribe`."""
        self._listeners = [*self._listeners, listener]

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners = [x for x in self._listeners if x is not listener]

    def _notify(self, kind: str, entry: JournalEntry | None) -> None:
        for listener in self._listeners:
            listener(kind, entry)

    def finish(self, entry: JournalEntry) -> None:
        """Tell listeners `entry` is final (the handler calls this once the response ended)."""
        if self._listeners:
            self._notify("finish", entry)

    def open(
        self, method: str, path: str, headers: Iterable[tuple[str, str]], started_at: float
    ) -> JournalEntry:
        with self._lock:
            self._seq += 1
            entry = JournalEntry(self._seq, method, path, redact_headers(headers), started_at)
            self._entries.append(entry)
        if self._listeners:
            self._notify("open", entry)
        return entry

    def entries(self, scenario: str | None = None) -> list[JournalEntry]:
        with self._lock:
            items = list(self._entries)
        return [e for e in items if scenario is None or e.scenario == scenario]

    def get(self, seq: int) -> JournalEntry | None:
        """The entry numbered `seq`, or None when there is none (never was, or evicted)."""
        with self._lock:
            return next((e for e in self._entries if e.seq == seq), None)

    def find_generation(self, generation_id: str) -> JournalEntry | None:
        with self._lock:
            return next((e for e in self._entries if e.generation_id == generation_id), None)

    def clear(self) -> None:
        """Forget every entry; numbering starts again at 1 (a reset test reads `request #1`)."""
        with self._lock:
            self._entries.clear()
            self._seq = 0
        self._notify("clear", None)

    @property
    def last_seq(self) -> int:
        """The number of the newest entry opened since the last clear (0: none)."""
        with self._lock:
            return self._seq

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
