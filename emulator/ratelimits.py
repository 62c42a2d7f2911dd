"""Where the request path applies rate limits (emulator.quota): the key's limits before
routing, a scenario's own `rate_limits` when it is picked to answer, and the tokens a served
generation counts towards both. Over a limit is the router's own 429 (limits docs) with
`Retry-After` and `X-RateLimit-*`, on the emulator's clock. No aiohttp: the handler passes in
what it knows."""

from __future__ import annotations

from emulator import routing
from emulator.errors import RequestError
from emulator.journal import JournalEntry
from emulator.quota import Refusal
from emulator.runtime import Emulator
from emulator.scenario import Scenario


def quota_key(api_key: str, session: str | None) -> str:
    """Whose rate limits a request counts against: its key's, per session (X-Emulator-Session)
    when it names one, so parallel jobs on one server do not use up each other's quotas."""
    return api_key if session is None else f"{api_key}\x00session={session}"


def key_refusal(
    emulator: Emulator, api_key: str, session: str | None, model: str, now: float
) -> Refusal | None:
    """The key's limits (and the free-variant ones for a free `model`) before routing."""
    return emulator.quotas.check(quota_key(api_key, session), routing.is_free(model), now)


def admit_scenario(
    emulator: Emulator, scenario: Scenario, api_key: str, session: str | None, seen: set[str]
) -> None:
    """Count a request `scenario` is picked to answer against its own `rate_limits` (once per
    request, whichever routing attempts pick it); raises the router's 429 (RequestError) when
    over one, before the scenario's step is used."""
    limits = scenario.rate_limits
    if limits is None or scenario.name in seen:
        return
    now = emulator.clock()
    key = quota_key(api_key, session)
    refusal = emulator.scenario_quotas.check(scenario.name, limits, key, now)
    if refusal is not None:
        raise RequestError(429, refusal.message, headers=refusal.headers(now))
    seen.add(scenario.name)


def count_tokens(emulator: Emulator, api_key: str, entry: JournalEntry) -> None:
    """Count a served generation's tokens towards the key's and its scenario's tokens per
    minute."""
    if entry.completion is None:
        return
    usage = entry.completion.get("usage") or {}
    tokens = int(usage.get("total_tokens") or 0)
    key, now = quota_key(api_key, entry.session), emulator.clock()
    emulator.quotas.add_tokens(key, tokens, now)
    if entry.scenario is not None:
        emulator.scenario_quotas.add_tokens(entry.scenario, key, tokens, now)
