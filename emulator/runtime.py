"""The one place with a server's mutable state: loaded scenarios and their counters, the
journal, open streams, and the per-test settings (seed, strict, time scale)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from emulator.accounts import Accounts
from emulator.catalog import Catalog
from emulator.catalogfile import build_catalog
from emulator.chaos import ChaosCounters
from emulator.config import Config
from emulator.deadline import Bounded, BudgetExceeded
from emulator.errors import RequestError
from emulator.generate import Generator
from emulator.journal import Journal, JournalEntry
from emulator.outages import Outages
from emulator.pacer import Pacer, PlanningSlots
from emulator.quota import Limits, Quotas, ScenarioQuotas
from emulator.scenario import Scenario
from emulator.state import ScenarioState
from emulator.validation import RequestValidator

DROPPED_PROBLEMS_KEPT = 5
T = TypeVar("T")

if TYPE_CHECKING:
    from emulator.proxy import Recorder


def session_scope(session: str | None) -> str:
    """The prefix of a session's chaos scopes (`|` for requests without a session)."""
    return f"session={session}|" if session is not None else "|"


class Emulator:
    """Everything the handlers share; built once per app. Settings may change between tests."""

    def __init__(self, config: Config, scenarios: Iterable[Scenario] = ()) -> None:
        self.config = config
        self.state = ScenarioState(scenarios)
        self.journal = Journal(config.journal_limit, config.journal_max_bytes, self._dropped)
        # Rejected requests the journal let go (report blocks of the first few, and a count):
        # the teardown check still fails on them.
        self.dropped_problems: list[str] = []
        self.dropped_problem_count = 0
        self.bounded = Bounded()
        # Tasks the server itself cancelled, with why ("server shutdown", "reset"), so the
        # journal and access log tell that apart from a client going away.
        self.cancelled: dict[asyncio.Task[object], str] = {}
        self.stopping = False  # set as the server shuts down
        self.validator = RequestValidator()
        self.generator = Generator()
        self.seed = config.seed
        self.strict = config.strict
        self.time_scale = config.time_scale
        # The configured catalog (built-in + --catalog files); `catalog` is what is served now
        # (the admin API and the fixture may extend it; reset() restores the configured one).
        # A broken catalog file raises ScenarioError (file:line) here, before serving.
        self.configured_catalog = build_catalog(config.catalog_paths)
        self.catalog: Catalog = self.configured_catalog
        self.accounts = Accounts(config.credits, config.key_limit)
        self.generation_lag_ms = config.generation_lag_ms
        self.generation_lag_polls = config.generation_lag_polls
        self.stats_polls: dict[str, int] = {}
        self.chaos = config.chaos
        self.normalize = config.normalize
        self.chaos_counters = ChaosCounters()
        self.catalog_strict = config.catalog_strict
        self.quotas = Quotas(self._limits(), self.accounts.free_daily_limit)
        self.scenario_quotas = ScenarioQuotas()  # scenarios' own rate_limits
        self.outages = Outages()  # providers that failed recently, for the load balancing
        self._clock_start = (time.time(), time.monotonic())
        self.clock_offset = 0.0
        self.open_tasks: set[asyncio.Task[object]] = set()
        self._serial = itertools.count(1)
        self._pacing: tuple[asyncio.AbstractEventLoop, Pacer, PlanningSlots] | None = None
        # Set while recording (serve --record, the pytest option): misses go upstream.
        self.recorder: Recorder | None = None

    def pacing(self) -> tuple[Pacer, PlanningSlots]:
        """The running loop's pacer and planning slots (made on first use on that loop)."""
        loop = asyncio.get_running_loop()
        if self._pacing is None or self._pacing[0] is not loop:
            self._pacing = (loop, Pacer(loop), PlanningSlots(loop))
        return self._pacing[1], self._pacing[2]

    async def within_budget(self, step: Callable[[], T], status: int, what: str) -> T:
        """`step()` in a worker thread within the request budget (`request_budget_ms`);
        RequestError(`status`) past it, saying it could not `what`."""
        budget_ms = self.config.request_budget_ms
        try:
            return await self.bounded.run(step, budget_ms / 1000)
        except BudgetExceeded:
            raise RequestError(
                status,
                f"the request needs more than the server's budget of {budget_ms:.0f} ms to "
                f"{what}; send a smaller or simpler request",
                {"budget_ms": budget_ms},
            ) from None

    def next_serial(self) -> int:
        return next(self._serial)

    def created(self) -> int:
        return self.config.fixed_time if self.config.fixed_time is not None else int(time.time())

    def _limits(self) -> Limits:
        return Limits(self.config.rpm, self.config.rpd, self.config.tpm)

    def set_limits(self, rpm: int | None, rpd: int | None, tpm: int | None) -> None:
        """Per-key quotas until the next reset (None keeps the configured one); counters restart."""
        base = self._limits()
        limits = Limits(
            rpm if rpm is not None else base.rpm,
            rpd if rpd is not None else base.rpd,
            tpm if tpm is not None else base.tpm,
        )
        self.quotas = Quotas(limits, self.accounts.free_daily_limit)

    def clock(self) -> float:
        """The clock of quota windows (unix seconds): it starts at the fixed time (or the wall
        clock) when the server starts and runs 1/time_scale times as fast as real time, so a
        time-scaled test sees a minute's window pass in time_scale minutes (at real speed when
        time_scale is 0)."""
        wall, mono = self._clock_start
        start = float(self.config.fixed_time) if self.config.fixed_time is not None else wall
        elapsed = time.monotonic() - mono
        scaled = elapsed / self.time_scale if self.time_scale > 0 else elapsed
        return start + scaled + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the quota clock forward (tests: a rate-limit window ends at once)."""
        self.clock_offset += max(0.0, seconds)

    def now(self) -> float:
        """The emulator's clock (unix seconds): the wall clock, or the configured fixed time."""
        return float(self.config.fixed_time) if self.config.fixed_time is not None else time.time()

    def models(self) -> list[str]:
        """Every model id served: the catalog's, the configured extras, the scenarios'."""
        return [m.id for m in self.served_catalog()]

    def served_catalog(self) -> Catalog:
        """The catalog plus a default entry for each model named by the config or a loaded
        scenario but missing from it."""
        extra = list(self.config.models)
        for scenario in self.state.scenarios:
            extra += scenario.models()
        return self.catalog.with_models(extra)

    def reset(self, *, keep_scenarios: bool = False, keep_journal: bool = False) -> None:
        """Fresh state: scenarios (unless kept), sequence counters, journal (unless kept: its
        numbering then goes on), request serials, settings back to the config's; open streams
        are cancelled. Call on the server's loop."""
        if keep_scenarios:
            self.state.reset_counters()
        else:
            self.state.clear()
        if not keep_journal:
            self.clear_journal()
        self.chaos_counters.reset()
        self.chaos = self.config.chaos
        self.normalize = self.config.normalize
        self._serial = itertools.count(1)
        self.seed = self.config.seed
        self.strict = self.config.strict
        self.time_scale = self.config.time_scale
        self.catalog = self.configured_catalog
        self.accounts.clear()
        self.generation_lag_ms = self.config.generation_lag_ms
        self.generation_lag_polls = self.config.generation_lag_polls
        self.stats_polls.clear()
        self.catalog_strict = self.config.catalog_strict
        self.quotas = Quotas(self._limits(), self.accounts.free_daily_limit)
        self.scenario_quotas.clear()
        self.outages.clear()
        self.clock_offset = 0.0
        self.cancel_open_streams()

    def reset_session(self, session: str) -> int:
        """Forget one session: its sequence counters, journal entries, chaos counts and outages
        (other sessions and the scenarios stay). Returns how many journal entries were dropped."""
        self.state.reset_counters(session)
        self.chaos_counters.reset(session_scope(session))
        self.outages.clear(session)
        return self.journal.clear_session(session)

    def clear_journal(self) -> None:
        """Empty the journal and forget the rejected requests it had dropped."""
        self.journal.clear()
        self.dropped_problems.clear()
        self.dropped_problem_count = 0

    def _dropped(self, entry: JournalEntry) -> None:
        from emulator.report import find_problems, format_block  # once the journal is full

        problems = find_problems([entry], self.state.scenarios)
        if problems:
            self.dropped_problem_count += 1
            if len(self.dropped_problems) < DROPPED_PROBLEMS_KEPT:
                self.dropped_problems.append(
                    "\n".join(format_block(problems[0], self.state.scenarios))
                )

    def cancel_open_streams(self, reason: str = "reset") -> int:
        """Cancel every open request handler; `reason` is what the journal and log say."""
        tasks = [t for t in self.open_tasks if not t.done()]
        for task in tasks:
            self.cancelled[task] = reason
            task.cancel()
        return len(tasks)

    async def close_open_streams(self, timeout: float = 5.0, reason: str = "reset") -> None:
        """Cancel open streams and wait (at most `timeout` s) until their handlers have ended,
        so their journal entries are final before anything reads or clears the journal."""
        tasks = [t for t in self.open_tasks if not t.done()]
        self.cancel_open_streams(reason)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
