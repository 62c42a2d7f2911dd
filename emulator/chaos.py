"""Seeded chaos: faults injected at a rate, or in bursts, so resilience tests get "5% 502s" or
"three 429s every 20 requests" reproducibly. Pure: no I/O, no clock (callers pass the time).

A chaos spec comes from the server (`--chaos`), a scenario (`chaos:`) or a request header
(`X-Emulator-Chaos`); the most specific one present decides (header, then scenario, then server).
Each spec counts the chat requests it sees (per session), and request number `n` of a scope draws
one number in [0, 1) from `seed`, the scope and `n` alone: the same seed and request history give
the same faults at the same requests, whatever the timing.

For each request: an active burst wins; otherwise the draw falls into at most one fault's share
(`rate` values add up to at most 1, checked at load).

Fault kinds: `error` (an HTTP error: any preset or status), `disconnect` (close without a
response), `reset` (TCP reset), `malformed` (a 200 whose body, or first stream event, is broken
JSON), `stall` (no answer for `ms`, then a close), `error_after` (a stream cut by an in-band error
after `after` content chunks; a non-streaming request gets the error as an HTTP error).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from .presets import error_preset
from .scenario import (
    ErrorBody,
    ErrorReply,
    Fault,
    Reply,
    Response,
    StreamEvent,
    StreamSpec,
)

HEADER = "x-emulator-chaos"
KINDS = ("error", "disconnect", "reset", "malformed", "stall", "error_after")
DEFAULT_STALL_MS = 30000.0
DEFAULT_ERROR = "provider_error"
# Most scopes counted at once (each header text and session is one): the oldest is forgotten
# first, so a stream of distinct headers cannot grow the counters without bound.
MAX_SCOPES = 10_000
MALFORMED_BODY = '{"id": "gen-broken", "choices": ['
MALFORMED_EVENT = 'data: {"id": "gen-broken", "choices": [{"delta": {"content": "\n\n'


@dataclass(frozen=True)
class ChaosFault:
    """One injectable fault: its kind and parameters (`error`: the HTTP error to answer;
    `ms`: how long a stall lasts; `after`: content chunks an `error_after` stream sends)."""

    kind: str
    error: ErrorReply | None = None
    ms: float = DEFAULT_STALL_MS
    after: int = 0

    def describe(self) -> str:
        """A short text for the journal, e.g. `error 429 (rate_limit)` or `stall 20000 ms`."""
        if self.kind in ("error", "error_after") and self.error is not None:
            preset = f" ({self.error.preset})" if self.error.preset else ""
            after = f" after {self.after} chunk(s)" if self.kind == "error_after" else ""
            return f"{self.kind} {self.error.status}{preset}{after}"
        if self.kind == "stall":
            return f"stall {self.ms:g} ms"
        return self.kind


@dataclass(frozen=True)
class Rate:
    """`fault` on a share `rate` (0 to 1) of the requests."""

    fault: ChaosFault
    rate: float


@dataclass(frozen=True)
class Burst:
    """`count` consecutive faults at the start of every `every` requests, or of every `every_ms`
    window (windows counted from the scope's first request)."""

    fault: ChaosFault
    count: int
    every: int | None = None
    every_ms: float | None = None


@dataclass(frozen=True)
class Chaos:
    """A chaos spec. `seed` None: the server's seed."""

    rates: tuple[Rate, ...] = ()
    bursts: tuple[Burst, ...] = ()
    seed: int | None = None
    source: str = "server"  # server | scenario <name> | header


@dataclass(frozen=True)
class Decision:
    """What chaos did for one request: the fault (None: none) and why."""

    fault: ChaosFault | None
    reason: str
    request: int  # 1-based request number within the spec's scope

    def to_json(self) -> dict[str, Any]:
        return {
            "fault": self.fault.kind if self.fault else None,
            "detail": self.fault.describe() if self.fault else None,
            "reason": self.reason,
            "request": self.request,
        }


# --- deciding ------------------------------------------------------------------------------------


def draw(seed: int, scope: str, n: int) -> float:
    """The uniform number in [0, 1) of request `n` of `scope` under `seed`."""
    return random.Random(f"chaos|{seed}|{scope}|{n}").random()


class ChaosCounters:
    """Requests seen per scope (thread-safe), and when each scope saw its first request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._started: dict[str, float] = {}
        # Per scope: each burst's (window, faults used in it); dropped with the scope.
        self._bursts: dict[str, dict[int, tuple[int, int]]] = {}

    def next(self, scope: str, now_ms: float) -> tuple[int, float]:
        """Count a request of `scope`: its 1-based number and ms since the scope's first one."""
        with self._lock:
            n = self._seen.get(scope, 0) + 1
            if n == 1 and len(self._seen) >= MAX_SCOPES:
                oldest = next(iter(self._seen))
                del self._seen[oldest]
                self._started.pop(oldest, None)
                self._bursts.pop(oldest, None)
            self._seen[scope] = n
            start = self._started.setdefault(scope, now_ms)
            return n, now_ms - start

    def burst_slot(self, scope: str, index: int, window: int, count: int) -> int | None:
        """The 1-based position of this request within the burst of `window`, or None when that
        window's `count` faults are spent."""
        with self._lock:
            slots = self._bursts.setdefault(scope, {})
            seen_window, used = slots.get(index, (-1, 0))
            if seen_window != window:
                used = 0
            if used >= count:
                slots[index] = (window, used)
                return None
            slots[index] = (window, used + 1)
            return used + 1

    def reset(self, prefix: str | None = None) -> None:
        """Forget every scope (or those starting with `prefix`, e.g. one session's)."""
        with self._lock:
            for table in (self._seen, self._started, self._bursts):
                for key in [k for k in table if prefix is None or k.startswith(prefix)]:
                    del table[key]


def decide(spec: Chaos, scope: str, seed: int, counters: ChaosCounters, now_ms: float) -> Decision:
    """Count this request in `scope` and decide its fault under `spec`."""
    n, elapsed = counters.next(scope, now_ms)
    seed = spec.seed if spec.seed is not None else seed
    for index, burst in enumerate(spec.bursts):
        reason = _burst(burst, index, scope, n, elapsed, counters)
        if reason is not None:
            return Decision(burst.fault, f"{spec.source} chaos: {reason}", n)
    if not spec.rates:
        return Decision(None, f"{spec.source} chaos: no burst active", n)
    value = draw(seed, scope, n)
    low = 0.0
    for rate in spec.rates:
        high = low + rate.rate
        if low <= value < high:
            return Decision(
                rate.fault,
                f"{spec.source} chaos: rate {rate.rate:g} of {rate.fault.kind} "
                f"(seed {seed}, draw {value:.6f} in [{low:.6f}, {high:.6f}))",
                n,
            )
        low = high
    return Decision(
        None, f"{spec.source} chaos: no fault (seed {seed}, draw {value:.6f} >= {low:.6f})", n
    )


def _burst(
    burst: Burst, index: int, scope: str, n: int, elapsed_ms: float, counters: ChaosCounters
) -> str | None:
    if burst.every is not None:
        position = (n - 1) % burst.every
        if position < burst.count:
            return (
                f"burst of {burst.count} {burst.fault.kind} every {burst.every} requests "
                f"({position + 1} of {burst.count})"
            )
        return None
    assert burst.every_ms is not None
    window = int(elapsed_ms // burst.every_ms)
    slot = counters.burst_slot(scope, index, window, burst.count)
    if slot is None:
        return None
    return (
        f"burst of {burst.count} {burst.fault.kind} every {burst.every_ms:g} ms "
        f"(window {window}, {slot} of {burst.count})"
    )


# --- injecting -----------------------------------------------------------------------------------


def inject(fault: ChaosFault, response: Response | None, stream: bool) -> Response:
    """The response that replaces `response` (None: the default reply) under `fault`."""
    kind = fault.kind
    if kind == "error":
        return fault.error or error_preset(DEFAULT_ERROR)
    if kind == "disconnect":
        return Fault("empty")
    if kind == "reset":
        return Fault("reset")
    if kind == "stall":
        return Fault("hang", max_ms=fault.ms)
    if kind == "malformed":
        if not stream:
            return Fault("malformed_json", body=MALFORMED_BODY)
        return Reply(stream=StreamSpec(events=(StreamEvent("raw", MALFORMED_EVENT),)))
    error = fault.error or error_preset(DEFAULT_ERROR)
    if not stream:
        return error
    reply = response if isinstance(response, Reply) else Reply()
    body = ErrorBody(error.status, error.message, error.metadata)
    # Over hand-written or recorded `events` too: error_after counts their chunks.
    spec = replace(reply.stream or StreamSpec(), error_after=fault.after, error=body)
    return replace(reply, stream=spec)


@dataclass
class ChaosState:
    """A server's chaos: its spec (None: none) and the counters of every scope."""

    spec: Chaos | None = None
    counters: ChaosCounters = field(default_factory=ChaosCounters)
