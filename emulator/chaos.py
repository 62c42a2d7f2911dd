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
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .presets import PRESET_NAMES, error_preset
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
        self._bursts: dict[tuple[str, int], tuple[int, int]] = {}

    def next(self, scope: str, now_ms: float) -> tuple[int, float]:
        """Count a request of `scope`: its 1-based number and ms since the scope's first one."""
        with self._lock:
            n = self._seen.get(scope, 0) + 1
            if n == 1 and len(self._seen) >= MAX_SCOPES:
                oldest = next(iter(self._seen))
                del self._seen[oldest]
                self._started.pop(oldest, None)
            self._seen[scope] = n
            start = self._started.setdefault(scope, now_ms)
            return n, now_ms - start

    def burst_slot(self, scope: str, index: int, window: int, count: int) -> int | None:
        """The 1-based position of this request within the burst of `window`, or None when that
        window's `count` faults are spent."""
        with self._lock:
            seen_window, used = self._bursts.get((scope, index), (-1, 0))
            if seen_window != window:
                used = 0
            if used >= count:
                self._bursts[(scope, index)] = (window, used)
                return None
            self._bursts[(scope, index)] = (window, used + 1)
            return used + 1

    def reset(self, prefix: str | None = None) -> None:
        """Forget every scope (or those starting with `prefix`, e.g. one session's)."""
        with self._lock:
            for table in (self._seen, self._started):
                for key in [k for k in table if prefix is None or k.startswith(prefix)]:
                    del table[key]
            for bkey in [k for k in self._bursts if prefix is None or k[0].startswith(prefix)]:
                del self._bursts[bkey]


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


# --- parsing -------------------------------------------------------------------------------------


def _error(value: Any) -> ErrorReply:
    """An error given as a preset name, a status, or {preset, status, message, metadata}."""
    if isinstance(value, bool):
        raise ValueError("error: expected a preset name, a status or a mapping")
    if isinstance(value, int):
        if not 400 <= value <= 599:
            raise ValueError(f"error status {value} is not an HTTP error status (400 to 599)")
        return _status_error(value)
    if isinstance(value, str):
        if value.isdigit():
            return _error(int(value))
        if value not in PRESET_NAMES:
            raise ValueError(f"unknown error preset {value!r}; valid: {', '.join(PRESET_NAMES)}")
        return error_preset(value)
    if isinstance(value, Mapping):
        base = _error(value["preset"]) if "preset" in value else None
        status = int(value.get("status", base.status if base else 502))
        if not 400 <= status <= 599:
            raise ValueError(f"error status {status} is not an HTTP error status (400 to 599)")
        default = base or _status_error(status)
        return replace(
            default,
            status=status,
            message=str(value.get("message", default.message)),
            metadata=value.get("metadata", default.metadata),
        )
    raise ValueError("error: expected a preset name, a status or a mapping")


def _status_error(status: int) -> ErrorReply:
    for name in PRESET_NAMES:
        preset = error_preset(name)
        if preset.status == status:
            return replace(preset, preset=name)
    return ErrorReply(status, f"Emulated error {status}")


def fault_of(d: Mapping[str, Any]) -> ChaosFault:
    """A fault from `{fault: kind, error?: ..., ms?: ..., after?: ...}`; ValueError if wrong."""
    kind = d.get("fault")
    if kind not in KINDS:
        raise ValueError(f"fault {kind!r} is not a chaos fault; valid: {', '.join(KINDS)}")
    error = None
    if kind in ("error", "error_after"):
        error = _error(d.get("error", DEFAULT_ERROR))
    elif "error" in d:
        raise ValueError(f"'error' only applies to faults error and error_after, not {kind}")
    if "ms" in d and kind != "stall":
        raise ValueError(f"'ms' only applies to fault stall, not {kind}")
    if "after" in d and kind != "error_after":
        raise ValueError(f"'after' only applies to fault error_after, not {kind}")
    return ChaosFault(kind, error, float(d.get("ms", DEFAULT_STALL_MS)), int(d.get("after", 0)))


def parse(d: Mapping[str, Any], source: str = "server") -> Chaos:
    """A spec from schema-shaped data `{seed?, rates?: [...], bursts?: [...]}`; ValueError
    naming the problem when the rates add up to more than 1 or a burst is impossible."""
    rates = tuple(Rate(fault_of(r), float(r["rate"])) for r in d.get("rates", ()))
    total = sum(r.rate for r in rates)
    if total > 1 + 1e-9:
        raise ValueError(f"rates add up to {total:g}; at most 1 (every request) is possible")
    bursts = []
    for b in d.get("bursts", ()):
        every, every_ms = b.get("every"), b.get("every_ms")
        if (every is None) == (every_ms is None):
            raise ValueError("a burst needs exactly one of 'every' (requests) or 'every_ms'")
        if every is not None and int(b["count"]) > int(every):
            raise ValueError(f"a burst of {b['count']} every {every} requests cannot fit")
        bursts.append(
            Burst(
                fault_of(b),
                int(b["count"]),
                int(every) if every is not None else None,
                float(every_ms) if every_ms is not None else None,
            )
        )
    seed = d.get("seed")
    return Chaos(rates, tuple(bursts), int(seed) if seed is not None else None, source)


_ITEM = re.compile(r"^(?P<kind>[a-z_]+)(?::(?P<arg>[\w.]+))?=(?P<value>\S+)$")


def parse_header(value: str) -> Chaos:
    """A spec from the `X-Emulator-Chaos` header: comma-separated `KIND[:ARG]=RATE`,
    `burst=KIND[:ARG]*COUNT/EVERY` (EVERY requests, or `10s`/`500ms`), `seed=N`. ARG is the
    error's preset or status, a stall's ms, or error_after's chunk count. ValueError if wrong."""
    rates: list[dict[str, Any]] = []
    bursts: list[dict[str, Any]] = []
    seed: int | None = None
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        m = _ITEM.match(item)
        if m is None:
            raise ValueError(f"cannot read {item!r}; expected KIND[:ARG]=RATE, burst=..., seed=N")
        kind, arg, rest = m["kind"], m["arg"], m["value"]
        if kind == "seed" and arg is None:
            seed = _number(int, rest, item)
        elif kind == "burst" and arg is None:
            bursts.append(_header_burst(rest, item))
        else:
            rates.append({**_header_fault(kind, arg, item), "rate": _number(float, rest, item)})
    for r in rates:
        if not 0 <= r["rate"] <= 1:
            raise ValueError(f"rate {r['rate']:g} of {r['fault']} is not between 0 and 1")
    return parse({"rates": rates, "bursts": bursts, "seed": seed}, "header")


def _number(kind: type[Any], text: str, item: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{item!r}: {text!r} is not a number") from None


def _header_fault(kind: str, arg: str | None, item: str) -> dict[str, Any]:
    out: dict[str, Any] = {"fault": kind}
    if arg is None:
        return out
    if kind in ("error", "error_after") and "." not in arg:
        if kind == "error_after" and arg.isdigit():
            out["after"] = int(arg)
        else:
            out["error"] = arg
    elif kind == "stall":
        out["ms"] = _number(float, arg, item)
    else:
        raise ValueError(f"{item!r}: fault {kind} takes no argument")
    return out


_BURST = re.compile(r"^(?P<fault>[a-z_]+(?::[\w.]+)?)\*(?P<count>\d+)/(?P<every>\d+(?:ms|s)?)$")


def _header_burst(text: str, item: str) -> dict[str, Any]:
    m = _BURST.match(text)
    if m is None:
        raise ValueError(f"{item!r}: expected burst=KIND[:ARG]*COUNT/EVERY (e.g. error:429*3/20)")
    kind, _, arg = m["fault"].partition(":")
    out = {**_header_fault(kind, arg or None, item), "count": int(m["count"])}
    every = m["every"]
    if every.endswith("ms"):
        out["every_ms"] = float(every[:-2])
    elif every.endswith("s"):
        out["every_ms"] = float(every[:-1]) * 1000
    else:
        out["every"] = int(every)
    return out


@dataclass
class ChaosState:
    """A server's chaos: its spec (None: none) and the counters of every scope."""

    spec: Chaos | None = None
    counters: ChaosCounters = field(default_factory=ChaosCounters)
