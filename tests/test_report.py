"""The teardown report as plain data: which journal entries are problems, and how they read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from wire import chat

from emulator.journal import JournalEntry
from emulator.loader import load_data
from emulator.report import excerpt, find_problems, format_report
from emulator.testing import EmulatorServer

BODY = {"model": "m", "messages": [{"role": "user", "content": "x"}]}


def entry(status: int, scenario: str | None = None, **fields: Any) -> JournalEntry:
    message = fields.pop("message", "")
    played = json.dumps({"error": {"code": status, "message": message}})
    return JournalEntry(
        1, "POST", "/v1/chat/completions", {}, 0.0, body=BODY, scenario=scenario,
        status=status, played=[(0.0, "body", played)], **fields,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("journal_entry", "kind"),
    [
        (entry(400, validation_errors=[{"path": "model", "message": "required"}]),
         "invalid request"),
        (entry(404, message="no scenario matched this request (strict mode)"),
         "no scenario matched"),
        (entry(400, message="the body is not valid JSON"), "rejected"),
        (entry(413, message="too large"), "rejected"),
        (entry(400, "exact", ignored_params=["temprature"]), "unknown parameters"),
    ],
    ids=["invalid", "unmatched", "not-json", "too-large", "strict-scenario"],
)  # fmt: skip
def test_problems(journal_entry: JournalEntry, kind: str) -> None:
    """Rejections the test did not script are problems, each of its kind."""
    strict = load_data({"name": "exact", "strict": True, "reply": {}})
    (problem,) = find_problems([journal_entry], strict)
    assert problem.kind == kind


@pytest.mark.parametrize(
    "journal_entry",
    [
        entry(200, "greeting"),
        entry(200),  # the default reply (not strict)
        entry(429, "rate-limited"),  # a scripted error
        entry(404, "gone"),  # a scripted 404
        entry(401, message="No auth credentials found"),
        entry(400, "loose", ignored_params=["temprature"]),  # not a strict scenario
    ],
    ids=["matched", "default", "scripted-429", "scripted-404", "auth", "loose-scenario"],
)
def test_not_problems(journal_entry: JournalEntry) -> None:
    """Answers that scenarios scripted, default replies and auth errors are not reported."""
    assert find_problems([journal_entry]) == []


def test_closest_scenarios_are_ranked_and_capped() -> None:
    """Near misses show fewest failed criteria first, at most three, then how many more."""
    misses = [
        {"scenario": "a", "reasons": ["r1", "r2", "r3"]},
        {"scenario": "b", "reasons": ["r1"]},
        {"scenario": "c", "reasons": ["r1", "r2"]},
        {"scenario": "d", "reasons": ["r1", "r2", "r3", "r4"]},
    ]
    problems = find_problems([entry(404, message="no scenario matched", near_misses=misses)])
    lines = format_report(problems, 1).splitlines()
    shown = [line.strip() for line in lines if line.strip().startswith("'")]
    assert shown == ["'b':", "'c':", "'a':"]
    assert lines[-1] == "        ... and 1 more"


def test_long_bodies_are_cut() -> None:
    """A body excerpt stays short and says how long the whole body was."""
    text = excerpt({"content": "x" * 1000})
    assert text.endswith("... (1015 chars)") and len(text) < 330
    assert excerpt(None) == "(not JSON)"


def test_assert_all_requests_matched(make_server: Any) -> None:
    """The public helper raises the same report as an AssertionError."""
    server: EmulatorServer = make_server(strict=True)
    server.assert_all_requests_matched()  # nothing yet
    chat(server.url)
    with pytest.raises(AssertionError, match=r"1 of 1 request was rejected by the emulator"):
        server.assert_all_requests_matched()
    assert [p.kind for p in server.problems()] == ["no scenario matched"]
