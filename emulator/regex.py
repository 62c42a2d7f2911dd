"""Scenario regexes (`{regex: ...}` match operators) on RE2: matching time is linear in the text.

Python's `re` backtracks: `^(a+)+$` against 26 characters takes seconds, and one such request
would hold up every other one. RE2 (the `google-re2` binding) never backtracks, so it has no
backreferences (`\\1`, `(?P=name)`), lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`), atomic groups or
possessive repeats; a pattern using them is refused when the scenario loads, saying which
construct and why. Everything else (classes, `\\d`, `\\w`, `\\s`, `(?i)`, named groups, `{m,n}`
up to 1000) reads as in Python.
"""

from __future__ import annotations

import functools
import re
from typing import Protocol

import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints


class Pattern(Protocol):
    """The part of a compiled RE2 pattern the emulator uses."""

    def search(self, text: str) -> object | None:
        """A match object when the pattern matches anywhere in `text`, else None."""


_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr

# RE2's error text → what the construct is, for constructs RE2 leaves out on purpose.
_UNSUPPORTED = (
    (re.compile(r"invalid escape sequence: \\[1-9]"), "backreferences (\\1 ...)"),
    (re.compile(r"invalid perl operator: \(\?P(=|$)"), "named backreferences ((?P=name))"),
    (re.compile(r"invalid perl operator: \(\?[=!]"), "lookahead ((?= ...) and (?! ...))"),
    (re.compile(r"invalid perl operator: \(\?<[=!]"), "lookbehind ((?<= ...) and (?<! ...))"),
    (re.compile(r"invalid perl operator: \(\?>"), "atomic groups ((?> ...))"),
    (re.compile(r"bad repetition operator: [*+?}]\+"), "possessive repeats (a++, a*+ ...)"),
)
_WHY = "scenario regexes run on RE2, which matches in linear time and so has no {what}"


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str) -> Pattern:
    """`pattern` compiled for RE2 (cached). Raises ValueError saying what is wrong, and for a
    construct RE2 does not have (backreference, lookaround ...) which one and why."""
    try:
        compiled: Pattern = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raise ValueError(_reason(exc)) from None
    return compiled


def _reason(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else str(exc)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    for found, what in _UNSUPPORTED:
        if found.search(text):
            return f"{text}: {_WHY.format(what=what)}"
    if "\\Z" in text:
        return f"{text}: write \\z for the end of the text (RE2's spelling)"
    return text
