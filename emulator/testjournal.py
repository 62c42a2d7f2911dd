"""What a test reads of the journal (a mixin of `EmulatorServer`): its requests, the last one,
those of a scenario, the calls per scenario, the rejected requests and their report, and any
entry exported as a scenario; for the whole server, or for one session after
`use_session(name)` (requests carrying `X-Emulator-Session: name`). Imports no pytest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.journal import JournalEntry
from emulator.report import RequestProblem, find_problems, format_report
from emulator.state import ALL_SESSIONS, MAX_SESSION_CHARS
from emulator.testkit import SESSION_HEADER

if TYPE_CHECKING:
    from emulator.runtime import Emulator


def check_session_name(name: str) -> str:
    """`name` when it is a valid `X-Emulator-Session` value (1 to 128 printable characters, no
    white space at either end); ValueError naming the rule otherwise."""
    if (
        not isinstance(name, str)
        or not name
        or len(name) > MAX_SESSION_CHARS
        or not name.isprintable()
        or name != name.strip()
    ):
        raise ValueError(
            f"a session name is 1 to {MAX_SESSION_CHARS} printable characters without white "
            f"space at either end, not {name!r}"
        )
    return name


class JournalView:
    """Mixed into EmulatorServer: needs `emulator`; `_since` (requests up to this number are
    from before the last reset) and `_session` (the bound session, None: every request)."""

    emulator: Emulator
    _since: int = 0
    _session: str | None = None

    # --- the session this object looks at ---
    def use_session(self, name: str | None) -> None:
        """Bind `requests`, `last_request`, `requests_for`, `scenario_calls`, `assert_called`,
        `unused`, `problems` and the pytest teardown check to session `name` (the requests
        sending `headers`), or unbind them (None). `reset()` unbinds. ValueError for a name the
        header cannot carry (1 to 128 printable characters)."""
        self._session = None if name is None else check_session_name(name)

    @property
    def session_name(self) -> str | None:
        """The bound session (see `use_session`), or None."""
        return self._session

    @property
    def headers(self) -> dict[str, str]:
        """The headers a client sends to be in the bound session, for the OpenAI SDK's
        `default_headers`: `{"X-Emulator-Session": name}`, or `{}` when none is bound."""
        return {SESSION_HEADER: self._session} if self._session is not None else {}

    # --- the journal ---
    @property
    def requests(self) -> list[JournalEntry]:
        """The journal since the last reset, oldest first (the bound session's only)."""
        entries = self._entries()
        if self._session is not None:
            entries = [e for e in entries if e.session == self._session]
        return entries

    def _entries(self) -> list[JournalEntry]:
        entries = self.emulator.journal.entries()
        return [e for e in entries if e.seq > self._since] if self._since else entries

    @property
    def last_request(self) -> JournalEntry:
        """The newest journal entry; an AssertionError when no request has arrived (naming the
        requests that arrived without the bound session's header)."""
        entries = self.requests
        if entries:
            return entries[-1]
        if self._session is None:
            raise AssertionError("chat_emulator: no request has reached the emulator")
        others = len(self._entries())
        raise AssertionError(
            f"chat_emulator: no request of session {self._session!r} has reached the emulator "
            f"({others} request(s) came outside it: make clients from chat_emulator.base_url, "
            f"or send chat_emulator.headers ({SESSION_HEADER}))"
        )

    def requests_for(self, scenario: str | None) -> list[JournalEntry]:
        """Journal entries matched to `scenario` (None: the requests no scenario matched)."""
        return [e for e in self.requests if e.scenario == scenario]

    def scenario_calls(self) -> dict[str, int]:
        """Calls served per loaded scenario (0 when never called), in the bound session only
        when one is bound."""
        where = ALL_SESSIONS if self._session is None else self._session
        return self.emulator.state.call_counts(where)

    def export(
        self,
        request: int | JournalEntry = -1,
        *,
        name: str | None = None,
        fmt: str = "yaml",
        path: str | os.PathLike[str] | None = None,
    ) -> str:
        """Journal entry `request` (an entry, its number `#seq`, or -1 for the newest) as a
        scenario file that plays exactly what was played: YAML or JSON text, also written to
        `path` when given. Raises LookupError for a number not in the journal."""
        from emulator.export import render, scenario_for

        if isinstance(request, JournalEntry):
            entry = request
        elif request == -1:
            entry = self.last_request
        else:
            found = [e for e in self.requests if e.seq == request]
            if not found:
                raise LookupError(f"chat_emulator: no request #{request} in the journal")
            entry = found[0]
        text = render(scenario_for(entry, name), fmt)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # --- rejected requests ---
    def problems(self) -> list[RequestProblem]:
        """Requests the emulator rejected without a scenario asking for it: invalid requests,
        no scenario matched (strict mode), unknown parameters refused by a strict scenario.
        Only those still in the journal (of the bound session); `problem_report` also counts
        the dropped ones when no session is bound."""
        return find_problems(self.requests, self.emulator.state.scenarios)

    def problem_report(self) -> str | None:
        """The readable report of `problems()`, or None when there are none."""
        problems = self.problems()
        emulator = self.emulator
        # Entries the journal let go carry no session: only an unbound view counts them.
        dropped = emulator.dropped_problem_count if self._session is None else 0
        if not problems and not dropped:
            return None
        return format_report(
            problems,
            len(self.requests),
            emulator.state.scenarios,
            emulator.dropped_problems if dropped else [],
            dropped,
        )

    def export_problems(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Export every request of `problems()` into `directory` as `request-N.yaml`, a scenario
        that plays exactly what the emulator answered (the teardown report names them)."""
        written: list[Path] = []
        for problem in self.problems():
            if problem.entry.finished:
                Path(directory).mkdir(parents=True, exist_ok=True)
                target = Path(directory) / f"request-{problem.entry.seq}.yaml"
                self.export(problem.entry, path=target)
                written.append(target)
        return written

    def assert_all_requests_matched(self) -> None:
        """Raise an AssertionError with the report when any request was rejected (see
        `problems`); the pytest fixture runs this at teardown."""
        report = self.problem_report()
        if report is not None:
            raise AssertionError(report)
