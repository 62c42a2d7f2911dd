"""What each request was, what matched, what was actually played and how it ended.

Bounded twice: at most `limit` entries and about `max_bytes` bytes of recorded data (headers,
body, played events; a stream chunked per character costs ~100 bytes per event). The oldest
finished entries go first, and every entry dropped is counted (`dropped`), and handed to
`on_drop` so the owner can remember the ones that matter (a rejected request must still fail
a test's teardown check after it left the journal).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

REDACTED = "<redacted>"
# Credentials, never journaled in clear: the API key, proxy credentials, cookies, and the
# usual API-key headers of other vendors that clients may send along.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-goog-api-key",
    }
)
_SCHEME_HEADERS = ("authorization", "proxy-authorization")
# Rough bytes an entry and each played event cost beyond their text (objects, tuple, float).
ENTRY_OVERHEAD_BYTES = 2048
EVENT_OVERHEAD_BYTES = 100


def safe_text(value: str) -> str:
    """`value` as valid Unicode: a header byte that is not UTF-8 (aiohttp keeps it as a lone
    surrogate, e.g. `X-Title: Café` sent as latin-1) becomes a visible `\\xe9` escape."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "backslashreplace")
    return value


_CONTROL = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F)} | {
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
}


def printable(value: object) -> str:
    """`value` as text safe for a log line: control characters (CR, LF, ESC ...) escaped, so
    a client- or scenario-chosen name cannot forge or split log lines; non-UTF-8 made visible."""
    return safe_text(str(value)).translate(_CONTROL)


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names lower-cased, values made valid Unicode (`safe_text`); credentials replaced
    by a marker that keeps the scheme of Authorization and Proxy-Authorization."""
    out: dict[str, str] = {}
    for name, value in headers:
        key = safe_text(name.lower())
        if key in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] + " " if key in _SCHEME_HEADERS and " " in value else ""
            value = safe_text(scheme) + REDACTED
        out[key] = safe_text(value)
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
    body_bytes: int = 0  # size of the request body as received, for the journal's byte bound
    session: str | None = None  # the X-Emulator-Session header's value
    chaos: dict[str, Any] | None = None  # the chaos decision: fault, detail, reason, request
    fuzz_seed: int | None = None  # stream.fuzz: the seed that shaped this stream

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

    def size_bytes(self) -> int:
        """About how much memory the entry holds, in bytes (for the journal's byte bound)."""
        size = ENTRY_OVERHEAD_BYTES + self.body_bytes
        size += sum(len(k) + len(v) for k, v in self.headers.items())
        size += sum(EVENT_OVERHEAD_BYTES + len(event[2]) for event in self.played)
        size += sum(len(data) for data in self.binary.values())
        return size


# A journal listener gets ("open" | "finish", entry) or ("clear", None).
Listener = Callable[[str, "JournalEntry | None"], None]


class Journal:
    """The request journal: oldest first, at most `limit` entries and about `max_bytes` bytes
    (0: no byte bound); safe to read from any thread. `dropped` counts entries let go since
    the last clear; `on_drop(entry)` runs (under the journal's lock) for each.

    Listeners (the inspector's event stream) hear of every opened and finished entry and of
    every clear; they are called synchronously and must not block."""

    def __init__(
        self,
        limit: int = 1000,
        max_bytes: int = 0,
        on_drop: Callable[[JournalEntry], None] | None = None,
    ) -> None:
        self._entries: deque[JournalEntry] = deque()
        self._live: dict[int, JournalEntry] = {}  # seq -> entry, for identity checks
        self._sizes: dict[int, int] = {}  # seq -> size of a finished entry, once accounted
        self._bytes = 0
        self._limit = max(1, limit)
        self._max_bytes = max(0, max_bytes)
        self._lock = threading.Lock()
        self._seq = 0
        self._listeners: list[Listener] = []
        self._on_drop = on_drop
        self.dropped = 0

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` on every open, finish and clear until `unsubscribe`."""
        self._listeners = [*self._listeners, listener]

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners = [x for x in self._listeners if x is not listener]

    def _notify(self, kind: str, entry: JournalEntry | None) -> None:
        for listener in self._listeners:
            listener(kind, entry)

    def finish(self, entry: JournalEntry) -> None:
        """`entry` is final (the handler calls this once the response ended): count its size
        against the byte bound, dropping the oldest entries (never this one) while the journal
        holds more than `max_bytes`, and tell listeners."""
        size = entry.size_bytes()
        with self._lock:
            if entry.seq not in self._sizes and self._live.get(entry.seq) is entry:
                self._sizes[entry.seq] = size
                self._bytes += size
                self._evict(keep=entry)
        if self._listeners:
            self._notify("finish", entry)

    def open(
        self, method: str, path: str, headers: Iterable[tuple[str, str]], started_at: float
    ) -> JournalEntry:
        """A new entry for a request that just arrived (headers redacted), appended last."""
        with self._lock:
            self._seq += 1
            entry = JournalEntry(
                self._seq, safe_text(method), safe_text(path), redact_headers(headers), started_at
            )
            self._entries.append(entry)
            self._live[entry.seq] = entry
            self._evict()
        if self._listeners:
            self._notify("open", entry)
        return entry

    def _evict(self, keep: JournalEntry | None = None) -> None:
        while len(self._entries) > self._limit or (
            self._max_bytes and self._bytes > self._max_bytes and len(self._entries) > 1
        ):
            oldest = self._entries[0]
            if oldest is keep:
                break
            self._entries.popleft()
            del self._live[oldest.seq]
            self._bytes -= self._sizes.pop(oldest.seq, 0)
            self.dropped += 1
            if self._on_drop is not None:
                self._on_drop(oldest)

    @property
    def size_bytes(self) -> int:
        """Bytes held by the finished entries (see JournalEntry.size_bytes)."""
        with self._lock:
            return self._bytes

    def entries(
        self, scenario: str | None = None, session: str | None = None
    ) -> list[JournalEntry]:
        """Entries oldest first; `scenario`, `session` (when given) keep only theirs."""
        with self._lock:
            items = list(self._entries)
        return [
            e
            for e in items
            if (scenario is None or e.scenario == scenario)
            and (session is None or e.session == session)
        ]

    def get(self, seq: int) -> JournalEntry | None:
        """The entry numbered `seq`, or None when there is none (never was, or evicted)."""
        with self._lock:
            return self._live.get(seq)

    def find_generation(self, generation_id: str) -> JournalEntry | None:
        with self._lock:
            return next((e for e in self._entries if e.generation_id == generation_id), None)

    def clear(self) -> None:
        """Forget every entry and the dropped count; numbering starts again at 1 (a reset test
        reads `request #1`)."""
        with self._lock:
            self._entries.clear()
            self._live.clear()
            self._sizes.clear()
            self._bytes = 0
            self._seq = 0
            self.dropped = 0
        self._notify("clear", None)

    def clear_session(self, session: str) -> int:
        """Forget one session's entries (numbering goes on); returns how many were removed."""
        with self._lock:
            gone = [e for e in self._entries if e.session == session]
            for entry in gone:
                self._entries.remove(entry)
                del self._live[entry.seq]
                self._bytes -= self._sizes.pop(entry.seq, 0)
        return len(gone)

    @property
    def last_seq(self) -> int:
        """The number of the newest entry opened since the last clear (0: none)."""
        with self._lock:
            return self._seq

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
