"""An index of scenarios by the exact values their `match` blocks require, so selection checks
the criteria of only the scenarios that can match a request.

A scenario is filed under one exact criterion it sets, in this order of preference (the most
selective first): `last_user_message`, a header, `model`, `any_message`. A criterion is exact
when its operator is `equals`, or `glob` with no wildcard (`*`, `?`, `[`), which
`fnmatch.fnmatchcase` holds only for the same text. A scenario with none of these, or with its
own normalisation (the texts it matches are rewritten first), is filed under nothing: it is a
candidate for every request. A filed scenario cannot match a request whose value (read exactly
as `emulator.matching` reads it) differs from the one it is filed under, so leaving it out
changes no outcome; the criteria of the candidates are then checked as before.

Pure: no I/O; built once per change of the scenario set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .chatrequest import ChatRequest
from .scenario import Scenario, TextMatcher

Positions = tuple[int, ...]
_WILDCARDS = frozenset("*?[")


def exact_text(matcher: TextMatcher | None) -> str | None:
    """The one text `matcher` holds for, or None when it holds for more (or for a missing value)."""
    if matcher is None or not isinstance(matcher.value, str):
        return None
    if matcher.op == "equals":
        return matcher.value
    if matcher.op == "glob" and not _WILDCARDS.intersection(matcher.value):
        return matcher.value
    return None


@dataclass(frozen=True)
class MatchIndex:
    """Positions (in the priority-ordered scenario tuple it was built from) by exact value.

    `always`: positions filed under nothing, candidates for every request. `headers` maps a
    lower-cased header name to its value table.
    """

    always: Positions = ()
    last_user_message: dict[str, Positions] | None = None
    headers: dict[str, dict[str, Positions]] | None = None
    model: dict[str, Positions] | None = None
    any_message: dict[str, Positions] | None = None

    @classmethod
    def build(cls, by_priority: Sequence[Scenario]) -> MatchIndex:
        """The index of `by_priority` (scenarios in the order selection walks them)."""
        always: list[int] = []
        tables: dict[str, dict[str, list[int]]] = {}
        header_tables: dict[str, dict[str, list[int]]] = {}
        for position, scenario in enumerate(by_priority):
            key = _key(scenario)
            if key is None:
                always.append(position)
            elif key[0] == "header":
                table = header_tables.setdefault(key[1], {})
                table.setdefault(key[2], []).append(position)
            else:
                tables.setdefault(key[0], {}).setdefault(key[2], []).append(position)
        headers = {name: _frozen(table) for name, table in header_tables.items()}
        return cls(
            tuple(always),
            _frozen(tables["last_user_message"]) if "last_user_message" in tables else None,
            headers or None,
            _frozen(tables["model"]) if "model" in tables else None,
            _frozen(tables["any_message"]) if "any_message" in tables else None,
        )

    def candidates(self, request: ChatRequest) -> Sequence[int]:
        """The positions of the scenarios that may match `request`, ascending."""
        found: list[Positions] = []
        if self.last_user_message is not None:
            text = request.last_user_message
            if text is not None and text in self.last_user_message:
                found.append(self.last_user_message[text])
        if self.headers is not None:
            # Read as matching reads headers: names lower-cased, the last of a repeated name.
            lowered = {k.lower(): v for k, v in request.headers.items()}
            for name, table in self.headers.items():
                value = lowered.get(name)
                if value is not None and value in table:
                    found.append(table[value])
        if self.model is not None:
            model = request.body.get("model")
            if isinstance(model, str) and model in self.model:
                found.append(self.model[model])
        if self.any_message is not None:
            for text in dict.fromkeys(request.message_texts):
                if text in self.any_message:
                    found.append(self.any_message[text])
        if not found:
            return self.always
        merged = set(self.always)
        for positions in found:
            merged.update(positions)
        return sorted(merged)


def _key(scenario: Scenario) -> tuple[str, str, str] | None:
    """(criterion, header name or "", exact value) a scenario is filed under, or None."""
    if scenario.normalize:
        return None
    match = scenario.match
    text = exact_text(match.last_user_message)
    if text is not None:
        return ("last_user_message", "", text)
    for name, matcher in match.headers:
        text = exact_text(matcher)
        if text is not None:
            return ("header", name.lower(), text)
    text = exact_text(match.model)
    if text is not None:
        return ("model", "", text)
    text = exact_text(match.any_message)
    if text is not None:
        return ("any_message", "", text)
    return None


def _frozen(table: dict[str, list[int]]) -> dict[str, Positions]:
    return {value: tuple(positions) for value, positions in table.items()}
