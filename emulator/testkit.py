"""Fixture helpers for agents (a mixin of `EmulatorServer`): scenarios answered by a Python
callable, call-count assertions, the scenarios a test loaded but never used, and a view of one
session (`X-Emulator-Session`) of a shared server. Imports no pytest."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from emulator.journal import JournalEntry
from emulator.scenario import Callback, Scenario

if TYPE_CHECKING:
    from emulator.chaos import Chaos
    from emulator.runtime import Emulator

SESSION_HEADER = "X-Emulator-Session"


def callable_scenario(
    fn: Callable[[Any], Any],
    name: str | None = None,
    match: Mapping[str, Any] | None = None,
    priority: int = 0,
) -> Scenario:
    """A scenario whose every call is answered by `fn(request)` (see `scenario.Callback`):
    named `name` (default the function's `__name__`), matching `match` (a scenario's `match`
    mapping; default every request). Raises ScenarioError for a bad `match`."""
    from emulator.loader import load_data

    label = name or getattr(fn, "__name__", None) or "callable"
    data = {"name": label, "priority": priority, "match": dict(match or {}), "reply": {}}
    (base,) = load_data(data, f"<callable {label}>")
    return replace(base, steps=(Callback(fn),))


class CallAssertions:
    """Mixed into EmulatorServer: needs `emulator` and `scenario_calls()`."""

    emulator: Emulator

    def scenario_calls(self) -> dict[str, int]:
        raise NotImplementedError

    def assert_called(self, name: str, times: int | None = None) -> None:
        """Raise AssertionError unless scenario `name` was called (exactly `times` times when
        given); the message gives the actual count and every loaded scenario's."""
        calls = self.scenario_calls()
        if name not in calls:
            loaded = ", ".join(calls) or "(none)"
            raise AssertionError(f"chat_emulator: no scenario named {name!r}; loaded: {loaded}")
        count = calls[name]
        if (times is None and count > 0) or count == times:
            return
        wanted = "at least once" if times is None else f"{times} time(s)"
        shown = ", ".join(f"{n}={c}" for n, c in calls.items())
        raise AssertionError(
            f"chat_emulator: scenario {name!r} was called {count} time(s), expected {wanted} "
            f"(calls: {shown})"
        )

    def unused(self) -> list[str]:
        """Names of the loaded scenarios no request has matched, in load order."""
        return [name for name, count in self.scenario_calls().items() if count == 0]

    def unused_report(self) -> str | None:
        """The teardown report line for `unused()`, or None when every scenario was used."""
        names = self.unused()
        if not names:
            return None
        where = {s.name: s.source for s in self.emulator.state.scenarios}
        shown = ", ".join(f"{n!r} ({where[n]})" for n in names)
        return f"chat_emulator: {len(names)} scenario(s) loaded but never matched: {shown}"

    def session(self, name: str) -> SessionView:
        """A view of session `name` (requests with the header `X-Emulator-Session: name`);
        ValueError for a name the header cannot carry."""
        from emulator.testjournal import check_session_name

        return SessionView(self.emulator, check_session_name(name), self._session_root())

    def _session_root(self) -> str | None:
        """The server's root URL, for a session view's base_url (None: not known)."""
        return None


def chaos_from(value: str | Mapping[str, Any] | Chaos, source: str = "<chaos>") -> Chaos:
    """A server-wide chaos spec (docs/chaos.md) from the `X-Emulator-Chaos` header's one-line
    syntax (`"error:502=0.05,burst=error:429*3/20,seed=7"`), a mapping in the format of a
    scenario's `chaos:` key (`{"seed": 7, "rates": [...], "bursts": [...]}`), or a Chaos.
    Raises ValueError (the header syntax) or ScenarioError (the mapping) naming the problem
    and `source` (where the mapping came from: a file's path)."""
    from emulator import chaos, chaosspec
    from emulator.loader import load_data

    if isinstance(value, chaos.Chaos):
        return value
    if isinstance(value, str):
        return replace(chaosspec.parse_header(value), source="server")
    if not isinstance(value, Mapping):
        raise ValueError(
            "chaos: expected the X-Emulator-Chaos header's syntax (a string) or a mapping of "
            f"seed, rates and bursts, not {type(value).__name__}"
        )
    (holder,) = load_data({"name": "chaos", "chaos": dict(value), "reply": {}}, source)
    assert holder.chaos is not None  # the loader builds it from the `chaos` key given
    return replace(holder.chaos, source="server")


@dataclass(frozen=True)
class SessionView(CallAssertions):
    """One session of a server: its header, journal entries and calls, `assert_called` and
    `unused` over them; `reset()` forgets it."""

    emulator: Emulator
    name: str
    root: str | None = None  # the server's root URL, when known

    @property
    def headers(self) -> dict[str, str]:
        """The header that puts a request in this session (for a client's default_headers)."""
        return {SESSION_HEADER: self.name}

    @property
    def base_url(self) -> str:
        """The OpenAI SDK's base_url of this session: `http://HOST:PORT/session/NAME/v1` (every
        request to it is in the session, with or without `headers`)."""
        if self.root is None:
            raise RuntimeError("chat_emulator: this session view has no server URL")
        from emulator.sessionurls import session_url

        return session_url(self.root, self.name) + "/v1"

    def _session_root(self) -> str | None:
        return self.root

    @property
    def requests(self) -> list[JournalEntry]:
        """This session's journal entries, oldest first."""
        return self.emulator.journal.entries(session=self.name)

    @property
    def last_request(self) -> JournalEntry:
        """This session's newest journal entry; an AssertionError when it has none."""
        entries = self.requests
        if not entries:
            raise AssertionError(
                f"chat_emulator: no request of session {self.name!r} has reached the emulator"
            )
        return entries[-1]

    def scenario_calls(self) -> dict[str, int]:
        """Calls served in this session per loaded scenario (0 when never called)."""
        return self.emulator.state.call_counts(self.name)

    def reset(self) -> int:
        """Forget this session (counters, journal entries, chaos counts); returns how many
        journal entries went."""
        return self.emulator.reset_session(self.name)
