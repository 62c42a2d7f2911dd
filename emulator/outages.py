"""Recent provider outages, for the default load balancing (provider-selection docs: it
prioritizes providers that have not seen significant outages in the last 30 seconds, and uses
the others as fallbacks).

An endpoint of a model is "down" for OUTAGE_SECONDS of the emulator's clock after a provider
failure there: an error from a scenario that fails that provider (one matching `provider` or
`attempt`). Kept per session (X-Emulator-Session; None: requests without one), so parallel
jobs on one server do not steer each other's routing. Times are unix seconds on the emulator's
clock, passed in.

Pure: no I/O, no clock of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

OUTAGE_SECONDS = 30.0
# Entries kept before the expired ones are dropped (memory stays bounded by recent failures).
PRUNE_AT = 1024
ALL_SESSIONS = "\x00all"

# (catalog model id, endpoint tag), e.g. ("openai/gpt-4o", "azure")
EndpointKey = tuple[str, str]


class Outages:
    """When each endpoint last failed, per session."""

    def __init__(self) -> None:
        self._failed: dict[tuple[str | None, str, str], float] = {}

    def record(self, session: str | None, endpoints: Iterable[EndpointKey], now: float) -> None:
        """Note that `endpoints` failed a request of `session` at `now`."""
        for model_id, tag in endpoints:
            self._failed[(session, model_id, tag)] = now
        if len(self._failed) > PRUNE_AT:
            self._failed = {k: at for k, at in self._failed.items() if now - at < OUTAGE_SECONDS}

    def down(self, session: str | None, now: float) -> frozenset[EndpointKey]:
        """The endpoints that failed a request of `session` in the OUTAGE_SECONDS before `now`."""
        return frozenset(
            (model_id, tag)
            for (where, model_id, tag), at in self._failed.items()
            if where == session and 0 <= now - at < OUTAGE_SECONDS
        )

    def clear(self, session: str | None = ALL_SESSIONS) -> None:
        """Forget the outages of one session, or (by default) of all."""
        if session == ALL_SESSIONS:
            self._failed.clear()
            return
        self._failed = {k: at for k, at in self._failed.items() if k[0] != session}
