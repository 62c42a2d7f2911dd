"""Quotas and rate limits per API key: requests per minute and per day, tokens per minute.

The router's limits docs: free variants (`:free` models and `openrouter/free`) allow 20
requests a minute and 50 a day (1000 with 10 USD or more of credits); an account may also be
given limits of its own (`--rpm`, `--rpd`, `--tpm`), and a scenario limits of its own for the
requests it answers (its `rate_limits`, counted apart from the key's). A request over a limit
gets the router's own 429 with `Retry-After` (seconds) and `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (unix ms). Windows are fixed: the minute and
the UTC day of the emulator's clock (unix seconds, passed in), so the time scale and a fixed
time apply.

Pure: no I/O, no clock of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

FREE_RPM = 20
# Keys (per session) with counters at once: any non-empty key is accepted, so a client sending a
# new one per request must not grow memory without end; past this, the oldest key's are dropped.
MAX_KEYS = 10_000
MINUTE = 60
DAY = 86400


@dataclass(frozen=True)
class Limits:
    """Per-key limits; None: no limit. `tpm` counts prompt + completion tokens."""

    rpm: int | None = None
    rpd: int | None = None
    tpm: int | None = None


@dataclass(frozen=True)
class Refusal:
    """A request over a limit: what to tell the client."""

    name: str  # e.g. free-models-per-min
    limit: int
    reset_at: float  # unix seconds when the window ends

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, math.ceil(self.reset_at - now))

    @property
    def message(self) -> str:
        return f"Rate limit exceeded: {self.name}."

    def headers(self, now: float) -> dict[str, str]:
        """Retry-After and the X-RateLimit-* headers of the router's own 429."""
        return {
            "Retry-After": str(self.retry_after(now)),
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(self.reset_at * 1000)),
        }


@dataclass
class _Window:
    index: int = -1
    count: int = 0

    def current(self, index: int) -> int:
        return self.count if index == self.index else 0

    def add(self, index: int, amount: int) -> None:
        self.count = self.current(index) + amount
        self.index = index


@dataclass
class _KeyCounters:
    minute: _Window = field(default_factory=_Window)
    day: _Window = field(default_factory=_Window)
    tokens: _Window = field(default_factory=_Window)
    free_minute: _Window = field(default_factory=_Window)
    free_day: _Window = field(default_factory=_Window)


class Quotas:
    """Counters per key; `check` refuses or admits (and counts) a request."""

    def __init__(self, limits: Limits = Limits(), free_daily: int = 1000) -> None:
        self.limits = limits
        self.free_daily = free_daily
        self.keys: dict[str, _KeyCounters] = {}

    def check(self, api_key: str, free: bool, now: float) -> Refusal | None:
        """A `Refusal` if a request now would exceed a limit; otherwise the request is counted
        and None is returned."""
        counters = self._counters(api_key)
        minute, day = int(now // MINUTE), int(now // DAY)
        minute_end, day_end = (minute + 1) * MINUTE, (day + 1) * DAY
        checks: list[tuple[str, int | None, _Window, int, float]] = [
            ("requests-per-min", self.limits.rpm, counters.minute, minute, minute_end),
            ("requests-per-day", self.limits.rpd, counters.day, day, day_end),
            ("tokens-per-min", self.limits.tpm, counters.tokens, minute, minute_end),
        ]
        if free:
            checks += [
                ("free-models-per-min", FREE_RPM, counters.free_minute, minute, minute_end),
                ("free-models-per-day", self.free_daily, counters.free_day, day, day_end),
            ]
        for name, limit, window, index, end in checks:
            if limit is not None and window.current(index) >= limit:
                return Refusal(name, limit, end)
        counters.minute.add(minute, 1)
        counters.day.add(day, 1)
        if free:
            counters.free_minute.add(minute, 1)
            counters.free_day.add(day, 1)
        return None

    def add_tokens(self, api_key: str, tokens: int, now: float) -> None:
        """Count a served generation's tokens towards the key's tokens per minute."""
        counters = self._counters(api_key)
        counters.tokens.add(int(now // MINUTE), max(0, tokens))

    def clear(self) -> None:
        self.keys.clear()

    def _counters(self, api_key: str) -> _KeyCounters:
        counters = self.keys.get(api_key)
        if counters is None:
            if len(self.keys) >= MAX_KEYS:
                del self.keys[next(iter(self.keys))]
            counters = self.keys[api_key] = _KeyCounters()
        return counters


class ScenarioQuotas:
    """The counters of scenarios' own `rate_limits`: per scenario name and key. A scenario
    loaded again with other limits starts its counters again."""

    def __init__(self) -> None:
        self.scenarios: dict[str, tuple[Limits, Quotas]] = {}

    def _quotas(self, scenario: str, limits: Limits) -> Quotas:
        found = self.scenarios.get(scenario)
        if found is None or found[0] != limits:
            found = (limits, Quotas(limits))
            self.scenarios[scenario] = found
        return found[1]

    def check(self, scenario: str, limits: Limits, api_key: str, now: float) -> Refusal | None:
        """A `Refusal` if one more request answered by `scenario` now would exceed `limits`;
        otherwise the request is counted against the scenario and None is returned."""
        return self._quotas(scenario, limits).check(api_key, False, now)

    def add_tokens(self, scenario: str, api_key: str, tokens: int, now: float) -> None:
        """Count a generation `scenario` served towards its tokens per minute (no-op for a
        scenario without limits)."""
        found = self.scenarios.get(scenario)
        if found is not None:
            found[1].add_tokens(api_key, tokens, now)

    def clear(self) -> None:
        self.scenarios.clear()
