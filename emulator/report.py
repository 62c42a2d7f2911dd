"""Which journalled requests the emulator rejected without a scenario asking for it, and a report
a person can act on: the request, the problems, the closest scenarios and why each did not match.

Pure functions over journal entries (no aiohttp, no pytest): the pytest plugin's teardown check
and `EmulatorServer.assert_all_requests_matched` both print this report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.journal import JournalEntry
from emulator.scenario import Scenario

BODY_EXCERPT_CHARS = 300
CLOSEST_SHOWN = 3
INDENT = "    "


@dataclass(frozen=True)
class RequestProblem:
    """One rejected request: what went wrong (`kind`), the details, and the near misses."""

    entry: JournalEntry
    kind: str  # invalid | unmatched | rejected | unknown parameters
    details: tuple[str, ...]
    near_misses: tuple[tuple[str, tuple[str, ...]], ...] = ()


def find_problems(
    entries: Iterable[JournalEntry], scenarios: Sequence[Scenario] = ()
) -> list[RequestProblem]:
    """Requests that failed validation, matched no scenario (strict mode), or were refused by a
    strict scenario. Answers a scenario scripted (errors, faults) are never problems."""
    strict = {s.name for s in scenarios if s.strict}
    found = (_problem(entry, strict) for entry in entries)
    return [p for p in found if p is not None]


def _problem(entry: JournalEntry, strict_scenarios: set[str]) -> RequestProblem | None:
    if entry.validation_errors:
        details = tuple(f"{e['path']}: {e['message']}" for e in entry.validation_errors)
        return RequestProblem(entry, "invalid request", details)
    if entry.scenario is None and entry.status == 404:
        misses = tuple((m["scenario"], tuple(m["reasons"])) for m in entry.near_misses)
        # The answer's own list of closest scenarios is shown in full below it.
        message = _message(entry).split("; closest: ")[0]
        return RequestProblem(entry, "no scenario matched", (message,), misses)
    if entry.scenario is None and entry.status in (400, 413):
        return RequestProblem(entry, "rejected", (_message(entry),))
    if entry.scenario in strict_scenarios and entry.ignored_params and entry.status == 400:
        return RequestProblem(entry, "unknown parameters", (_message(entry),))
    return None


def _message(entry: JournalEntry) -> str:
    """The error message the emulator answered with (read back from the bytes it played)."""
    played = "".join(e.data for e in entry.events if e.kind == "body")
    try:
        message = json.loads(played)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"answered {entry.status}"
    return str(message)


# --- the report --------------------------------------------------------------------------------


def format_report(
    problems: Sequence[RequestProblem],
    total: int,
    scenarios: Sequence[Scenario] = (),
    dropped: Sequence[str] = (),
    dropped_count: int = 0,
) -> str:
    """The whole report: a headline, then one block per rejected request. `dropped` holds the
    blocks (`format_block`) of rejected requests the journal has since let go, the first few
    of `dropped_count`; `total` counts the requests still in the journal."""
    count = len(problems) + dropped_count
    total += dropped_count
    noun = "request" if total == 1 else "requests"
    verb = "was" if count == 1 else "were"
    lines = [f"chat_emulator: {count} of {total} {noun} {verb} rejected by the emulator:"]
    if dropped_count:
        lines += [
            "",
            f"{dropped_count} of them left the journal since (journal limit); "
            + ("the first:" if dropped_count == 1 else f"the first {len(dropped)}:"),
        ]
        for block in dropped:
            lines += ["", block]
        if problems:
            lines += ["", "and in the journal:"]
    where = {s.name: s for s in scenarios}
    for problem in problems:
        lines += ["", *_block(problem, where)]
    return "\n".join(lines)


def format_block(problem: RequestProblem, scenarios: Sequence[Scenario] = ()) -> list[str]:
    """One rejected request's block of the report, as lines."""
    return _block(problem, {s.name: s for s in scenarios})


def _block(problem: RequestProblem, scenarios: dict[str, Scenario]) -> list[str]:
    entry = problem.entry
    head = f"request #{entry.seq}: {entry.method} {entry.path} -> {entry.status} {problem.kind}"
    if entry.scenario is not None:
        head += f" (scenario {entry.scenario!r})"
    lines = [head, f"{INDENT}body: {excerpt(entry.body)}"]
    label = "problems" if problem.kind == "invalid request" else "answer"
    lines += [f"{INDENT}{label}:", *(f"{INDENT * 2}- {d}" for d in problem.details)]
    if problem.near_misses:
        lines += _closest(problem.near_misses, scenarios)
    return lines


def _closest(
    misses: Sequence[tuple[str, tuple[str, ...]]], scenarios: dict[str, Scenario]
) -> list[str]:
    # Fewest failed criteria first: the scenario the test most likely meant.
    ranked = sorted(misses, key=lambda miss: len(miss[1]))
    lines = [f"{INDENT}closest scenarios (of {len(misses)} loaded), and why each did not match:"]
    for name, reasons in ranked[:CLOSEST_SHOWN]:
        scenario = scenarios.get(name)
        where = f" ({scenario.source})" if scenario is not None else ""
        lines.append(f"{INDENT * 2}{name!r}{where}:")
        lines += [f"{INDENT * 3}- {reason}" for reason in reasons]
    if len(ranked) > CLOSEST_SHOWN:
        lines.append(f"{INDENT * 2}... and {len(ranked) - CLOSEST_SHOWN} more")
    return lines


def excerpt(body: Any, limit: int = BODY_EXCERPT_CHARS) -> str:
    """Compact JSON of `body`, cut at `limit` characters so a report stays readable."""
    if body is None:
        return "(not JSON)"
    text = json.dumps(body, ensure_ascii=False, separators=(", ", ": "))
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} chars)"
