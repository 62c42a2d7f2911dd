"""What each API key has spent: the counters `GET /key` and `GET /credits` report.

Every served generation charges its `cost` (USD) to the key that asked for it. `GET /key`
(spec operation getCurrentKey, limits docs) reports the key's `usage` in total and for the
current UTC day, week (starting Monday) and month, its `limit` and `limit_remaining`, its
budget layers (only the key's own limit here) and the account's free-model (`:free`) daily
requests: 50 a day with less than 10 USD of credits, 1000 otherwise (limits docs);
`GET /credits` (spec operation getCredits) the account's `total_credits` and the `total_usage` of
every key. Times are unix seconds on the emulator's clock. Pure: no I/O, no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

FREE_DAILY_REQUESTS_LOW = 50
FREE_DAILY_REQUESTS = 1000
FREE_CREDITS_THRESHOLD = 10.0
# Keys whose spend is kept at once (any non-empty key is accepted: a new one per request must not
# grow memory without end); past this the oldest key's is dropped, its spend staying in the
# account's usage.
MAX_KEYS = 10_000
# The deprecated `rate_limit` object of GET /key (spec schema: "safe to ignore").
DEPRECATED_RATE_LIMIT = {
    "requests": -1,
    "interval": "10s",
    "note": "This field is deprecated and safe to ignore.",
}


def periods(at: float) -> tuple[str, str, str]:
    """The UTC day, ISO week (weeks start on Monday) and month `at` (unix s) falls in, as keys.
    They depend on the UTC day alone (unix time has 86,400 s a day): worked out once a day, not
    on every request."""
    return _day_periods(int(at // 86400))


@lru_cache(maxsize=4)
def _day_periods(day: int) -> tuple[str, str, str]:
    moment = datetime.fromtimestamp(day * 86400, timezone.utc)
    year, week, _ = moment.isocalendar()
    return moment.strftime("%Y-%m-%d"), f"{year}-W{week:02d}", moment.strftime("%Y-%m")


@dataclass
class KeyUsage:
    """One key's spend in USD: in total, and in the day, week and month of its last charge."""

    total: float = 0.0
    current: tuple[str, str, str] = ("", "", "")
    by_period: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    requests: int = 0

    def charge(self, usd: float, at: float) -> None:
        now = periods(at)
        for i in range(3):
            if now[i] != self.current[i]:
                self.by_period[i] = 0.0
        self.current = now
        self.total += usd
        for i in range(3):
            self.by_period[i] += usd
        self.requests += 1

    def within(self, at: float) -> tuple[float, float, float]:
        """Daily, weekly and monthly usage as seen at `at` (0 for a period already over)."""
        now = periods(at)
        day, week, month = (
            self.by_period[i] if now[i] == self.current[i] else 0.0 for i in range(3)
        )
        return day, week, month


class Accounts:
    """Spend per API key, and the account's credits (USD). `key_limit` None: unlimited."""

    def __init__(self, total_credits: float = 100.0, key_limit: float | None = None) -> None:
        self.total_credits = total_credits
        self.key_limit = key_limit
        self.keys: dict[str, KeyUsage] = {}
        self.total_usage = 0.0  # USD, every key's spend (kept when a key's is dropped)
        self.free_requests: tuple[str, int] = ("", 0)  # (UTC day, requests that day)

    def charge(self, api_key: str, usd: float, at: float, free: bool = False) -> None:
        """Add a generation's cost (USD, >= 0) to `api_key`'s counters at time `at`; `free`:
        it was served by a `:free` variant, and counts towards the free daily requests."""
        usage = self.keys.get(api_key)
        if usage is None:
            if len(self.keys) >= MAX_KEYS:
                del self.keys[next(iter(self.keys))]
            usage = self.keys[api_key] = KeyUsage()
        usd = max(0.0, usd)
        usage.charge(usd, at)
        self.total_usage += usd
        if free:
            self.free_requests = (periods(at)[0], self.free_requests_used(at) + 1)

    def free_requests_used(self, at: float) -> int:
        """Free-variant requests served so far on `at`'s UTC day."""
        day, count = self.free_requests
        return count if day == periods(at)[0] else 0

    @property
    def free_daily_limit(self) -> int:
        """The account's free-variant requests per UTC day (limits docs)."""
        low = self.total_credits < FREE_CREDITS_THRESHOLD
        return FREE_DAILY_REQUESTS_LOW if low else FREE_DAILY_REQUESTS

    def usage(self, api_key: str) -> KeyUsage:
        return self.keys.get(api_key) or KeyUsage()

    def key_data(self, api_key: str, at: float) -> dict[str, Any]:
        """`GET /key`'s `data`: every required field of the spec's getCurrentKey response."""
        spent = self.usage(api_key)
        day, week, month = spent.within(at)
        limit = self.key_limit
        budgets = [] if limit is None else [_key_budget(limit, spent.total)]
        used_free = self.free_requests_used(at)
        return {
            "label": key_label(api_key),
            "limit": limit,
            "limit_remaining": None if limit is None else _usd(max(0.0, limit - spent.total)),
            "limit_reset": None,
            "include_byok_in_limit": False,
            "usage": _usd(spent.total),
            "usage_daily": _usd(day),
            "usage_weekly": _usd(week),
            "usage_monthly": _usd(month),
            "byok_usage": 0.0,
            "byok_usage_daily": 0.0,
            "byok_usage_weekly": 0.0,
            "byok_usage_monthly": 0.0,
            "is_free_tier": self.total_credits <= 0,
            "is_management_key": False,
            "is_provisioning_key": False,
            "creator_user_id": None,
            "expires_at": None,
            "rate_limit": dict(DEPRECATED_RATE_LIMIT),
            "allowed_data_regions": ["global", "europe", "us"],
            "budgets": budgets,
            "effective_budget": budgets[0] if budgets else None,
            "free_model_daily_requests": {
                "limit": self.free_daily_limit,
                "remaining": max(0, self.free_daily_limit - used_free),
                "used": used_free,
            },
            "organization_id": None,
            "workspace_id": None,
        }

    def credits_data(self) -> dict[str, Any]:
        """`GET /credits`'s `data` (spec operation getCredits)."""
        return {"total_credits": self.total_credits, "total_usage": _usd(self.total_usage)}

    def clear(self) -> None:
        self.keys.clear()
        self.total_usage = 0.0
        self.free_requests = ("", 0)


def _key_budget(limit: float, spent: float) -> dict[str, Any]:
    """The key's own limit as a budget layer (the SDK's KeyBudget, scope `key_limit`)."""
    return {
        "scope": "key_limit",
        "budget_id": None,
        "guardrail_id": None,
        "include_byok": False,
        "limit_usd": limit,
        "spend_usd": _usd(spent),
        "remaining_usd": _usd(limit - spent),
        "reset_interval": None,
        "resets_at": None,
    }


def key_label(api_key: str) -> str:
    """The router's masked key label: `sk-or-v1-au7...890` (first 11 and last 3 characters)."""
    if len(api_key) <= 14:
        return api_key[:3] + "..." if len(api_key) > 3 else "..."
    return f"{api_key[:11]}...{api_key[-3:]}"


def _usd(value: float) -> float:
    return round(value, 12)
