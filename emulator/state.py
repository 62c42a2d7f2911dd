"""The loaded scenarios and their sequence counters: the one place with mutable scenario state.

Thread-safe: a test thread may add, replace or reset while the server's loop thread selects.
Selection and the consumption of a sequence step happen under one lock, so two concurrent
requests never get the same step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from . import normalize
from .chatrequest import ChatRequest
from .errors import RequestError
from .loader import check_unique
from .matchindex import MatchIndex
from .matching import MatchResult, match_request, matches
from .normalize import Normalize
from .scenario import Match, Response, Scenario

FORCE_HEADER = "x-emulator-scenario"
SESSION_HEADER = "x-emulator-session"
MAX_SESSION_CHARS = 128
# `call_counts(session=ALL_SESSIONS)`: totals over every session.
ALL_SESSIONS = "\x00all"
# Most sessions with counters at once: a new one past this forgets the oldest session's.
MAX_SESSIONS = 10_000
NEAR_MISSES_IN_MESSAGE = 3

NearMiss = tuple[str, tuple[str, ...]]
# Called with the picked scenario before its step is consumed; refuses it by raising.
Admit = Callable[[Scenario], None]


@dataclass(frozen=True)
class Selection:
    """What a request gets: a scenario and its step, or nothing (`response` None: default reply).

    `near_misses` are the scenarios checked before the winner that did not match (all of them
    when none matched), highest priority first, each with the reasons it did not match. They
    are worked out when first read (from `missed` and `request`): selection itself only asks
    whether each criterion holds and stops at the first that does not.
    """

    scenario: Scenario | None
    response: Response | None
    call_number: int = 0  # 1-based count of this scenario's calls, this one included
    forced: bool = False  # chosen by the X-Emulator-Scenario header
    # A ready near miss, or a scenario whose reasons are worked out against `request`.
    missed: tuple[NearMiss | Scenario, ...] = ()
    request: ChatRequest | None = None

    @cached_property
    def near_misses(self) -> tuple[NearMiss, ...]:
        return tuple(
            miss
            if isinstance(miss, tuple)
            else (miss.name, match_request(miss.match, self._request()).reasons)
            for miss in self.missed
        )

    def _request(self) -> ChatRequest:
        assert self.request is not None, "a scenario near miss needs the request"
        return self.request


class ScenarioState:
    """Loaded scenarios in load order, and how many calls each has served."""

    def __init__(self, scenarios: Iterable[Scenario] = ()) -> None:
        self._lock = threading.Lock()
        self._scenarios: tuple[Scenario, ...] = ()
        self._by_priority: tuple[Scenario, ...] = ()
        self._index = MatchIndex()
        # Calls per (session, scenario name); session None: requests without a session header.
        self._counts: dict[tuple[str | None, str], int] = {}
        self._normalized: dict[tuple[str, Normalize], Match] = {}
        self._sessions: dict[str, None] = {}  # sessions with counters, oldest first
        self.add(scenarios)
        # The scenarios the server started with (from its scenario files): what a reload of
        # those files replaces; scenarios added later (admin API, fixture) survive a reload.
        self._file_names = frozenset(self.names())

    # --- changing the set ---
    def _install(self, scenarios: tuple[Scenario, ...]) -> None:
        self._scenarios = scenarios
        self._normalized = {}
        order = {s.name: i for i, s in enumerate(scenarios)}
        self._by_priority = tuple(sorted(scenarios, key=lambda s: (-s.priority, order[s.name])))
        self._index = MatchIndex.build(self._by_priority)

    def add(self, scenarios: Iterable[Scenario]) -> None:
        """Add scenarios after the loaded ones; a name already loaded raises ScenarioError."""
        new = tuple(scenarios)
        with self._lock:
            check_unique(new, self._scenarios, loaded=True)
            self._install(self._scenarios + new)

    def replace_all(self, scenarios: Iterable[Scenario]) -> None:
        """Swap in a new set (checked first: a bad set leaves the old one) and reset counters."""
        new = tuple(scenarios)
        check_unique(new)
        with self._lock:
            self._install(new)
            self._counts.clear()
            self._file_names = frozenset()
            self._sessions.clear()

    def replace_files(self, scenarios: Iterable[Scenario]) -> tuple[str, ...]:
        """Swap in a new load of the scenario files. The scenarios of the previous file load
        (and any loaded from one of the same files) are replaced; the others (added through the
        admin API or a fixture) stay, after the files' ones. Counters restart. Returns the names
        kept; a kept name the files now also define raises ScenarioError (naming both places)
        and leaves the current set."""
        new = tuple(scenarios)
        files = {s.source.file for s in new}
        with self._lock:
            kept = tuple(
                s
                for s in self._scenarios
                if s.name not in self._file_names and s.source.file not in files
            )
            check_unique(new + kept)
            self._install(new + kept)
            self._counts.clear()
            self._sessions.clear()
            self._file_names = frozenset(s.name for s in new)
        return tuple(s.name for s in kept)

    def clear(self) -> None:
        """Remove every scenario and counter."""
        with self._lock:
            self._install(())
            self._counts.clear()
            self._file_names = frozenset()
            self._sessions.clear()

    def reset_counters(self, session: str | None = ALL_SESSIONS) -> None:
        """Start every sequence again from its first step (of one session, or of all)."""
        with self._lock:
            if session == ALL_SESSIONS:
                self._counts.clear()
                self._sessions.clear()
                return
            self._sessions.pop(session or "", None)
            for key in [k for k in self._counts if k[0] == session]:
                del self._counts[key]

    def _bound_sessions(self, session: str) -> None:
        """Keep at most MAX_SESSIONS sessions' counters (called under the lock)."""
        if session in self._sessions:
            return
        if len(self._sessions) >= MAX_SESSIONS:
            oldest = next(iter(self._sessions))
            del self._sessions[oldest]
            for key in [k for k in self._counts if k[0] == oldest]:
                del self._counts[key]
        self._sessions[session] = None

    def sessions(self) -> list[str]:
        """The sessions that have made calls, in first-call order."""
        with self._lock:
            return list(dict.fromkeys(s for s, _ in self._counts if s is not None))

    # --- reading ---
    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        return self._scenarios

    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self._scenarios)

    def call_counts(self, session: str | None = ALL_SESSIONS) -> dict[str, int]:
        """Calls served per scenario name (every loaded scenario, 0 when never called), in one
        session (None: requests without a session header) or, by default, in all of them."""
        with self._lock:
            totals: dict[str, int] = {}
            for (where, name), count in self._counts.items():
                if session == ALL_SESSIONS or where == session:
                    totals[name] = totals.get(name, 0) + count
            return {s.name: totals.get(s.name, 0) for s in self._scenarios}

    # --- selecting ---
    def select(
        self,
        request: ChatRequest,
        admit: Admit | None = None,
        session: str | None = None,
        norm: Normalize | None = None,
    ) -> Selection:
        """Pick the scenario for `request` and consume its step, in one locked step. `admit`
        may refuse the picked scenario by raising (a RequestError) before any step is used.
        `session` picks the partition of sequence counters; `norm` is the server's
        normalisation, for scenarios without their own `normalize`."""
        with self._lock:
            forced = request.headers.get(FORCE_HEADER)
            if forced is not None:
                return self._forced(forced.strip(), admit, session)
            misses: list[NearMiss | Scenario] = []
            views: dict[Normalize, ChatRequest] = {}
            by_priority = self._by_priority
            # The server's normalisation rewrites what every scenario matches: no index then.
            order = range(len(by_priority)) if norm else self._index.candidates(request)
            done = 0  # scenarios before this position are decided
            for position in order:
                # Those the index rules out are near misses like any other (reasons when read).
                misses.extend(by_priority[done:position])
                done = position + 1
                scenario = by_priority[position]
                own = scenario.normalize if scenario.normalize is not None else norm
                if own:
                    # Opt-in, so off the hot path: the reasons are worked out at once.
                    result = self._normalized_match(scenario, request, own, views)
                    if not result.ok:
                        misses.append((scenario.name, result.reasons))
                        continue
                elif not matches(scenario.match, request):
                    misses.append(scenario)
                    continue
                selection = self._consume(scenario, False, tuple(misses), admit, request, session)
                if selection is not None:
                    return selection
                calls = self._counts[(session, scenario.name)]
                misses.append((scenario.name, (_exhausted(calls),)))
            misses.extend(by_priority[done:])
            return Selection(None, None, missed=tuple(misses), request=request)

    def _normalized_match(
        self,
        scenario: Scenario,
        request: ChatRequest,
        norm: Normalize,
        views: dict[Normalize, ChatRequest],
    ) -> MatchResult:
        if norm not in views:
            views[norm] = normalize.request(request, norm)
        key = (scenario.name, norm)
        if key not in self._normalized:
            self._normalized[key] = normalize.match(scenario.match, norm)
        return match_request(self._normalized[key], views[norm], norm)

    def _forced(self, name: str, admit: Admit | None, session: str | None) -> Selection:
        scenario = next((s for s in self._scenarios if s.name == name), None)
        if scenario is None:
            names = [s.name for s in self._scenarios]
            raise RequestError(
                404,
                f"no scenario named {name!r}; loaded: {', '.join(names) or '(none)'}",
                metadata={"scenarios": names},
                headers={"x-should-retry": "false"},
            )
        selection = self._consume(scenario, True, (), admit, None, session)
        if selection is not None:
            return selection
        # An exhausted fall_through sequence steps aside: the default reply (in strict mode a
        # 404 whose near miss says why, not "no scenarios are loaded").
        calls = self._counts.get((session, name), 0)
        return Selection(scenario, None, calls, True, ((name, (_exhausted(calls),)),))

    def _consume(
        self,
        scenario: Scenario,
        forced: bool,
        misses: tuple[NearMiss | Scenario, ...],
        admit: Admit | None = None,
        request: ChatRequest | None = None,
        session: str | None = None,
    ) -> Selection | None:
        key = (session, scenario.name)
        count = self._counts.get(key, 0)
        if count == 0 and session is not None:
            self._bound_sessions(session)
        step = scenario.step(count)
        if step is None:
            return None
        if admit is not None:
            admit(scenario)
        self._counts[key] = count + 1
        return Selection(scenario, step, count + 1, forced, misses, request)


def session_of(headers: Mapping[str, str]) -> str | None:
    """The session a request belongs to (header `X-Emulator-Session`, names lower-cased in
    `headers`), None without the header; a 400 for an empty, over-long or non-printable name."""
    value = headers.get(SESSION_HEADER)
    if value is None:
        return None
    name = value.strip()
    if not name or len(name) > MAX_SESSION_CHARS or not name.isprintable():
        raise RequestError(
            400,
            f"header X-Emulator-Session must be 1 to {MAX_SESSION_CHARS} printable characters",
            headers={"x-should-retry": "false"},
        )
    return name


def _exhausted(calls: int) -> str:
    return f"sequence exhausted after {calls} call(s) (after_sequence: fall_through)"


def no_match_error(selection: Selection) -> RequestError:
    """The strict-mode 404 for a request no scenario matched, naming the closest scenarios."""
    misses = selection.near_misses
    closest = sorted(misses, key=lambda miss: len(miss[1]))[:NEAR_MISSES_IN_MESSAGE]
    message = "no scenario matched this request (strict mode)"
    if closest:
        message += "; closest: " + "; ".join(
            f"{name!r} ({', '.join(reasons)})" for name, reasons in closest
        )
    else:
        message += "; no scenarios are loaded"
    return RequestError(
        404,
        message,
        metadata={"near_misses": [{"scenario": n, "reasons": list(r)} for n, r in misses]},
        headers={"x-should-retry": "false"},
    )
