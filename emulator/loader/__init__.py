"""Scenario files → the scenario model. YAML (safe) → schema check → semantic checks → model.

Every problem is a `ScenarioError` whose text is `file:line: message`, with the line of the
offending key or value. Nothing half-loads: one problem anywhere and the whole call raises.

- YAML with lines (`yamltree`): composed safely, converted node by node so each JSON path has
  its line; duplicate keys, recursive aliases, non-finite numbers and non-JSON types are refused.
- Every file is validated against `emulator.schemas/scenario.schema.json` (`explain` turns
  problems into messages); then the builder (`build`, `streamkeys`, `errorkeys`) compiles regexes,
  parses templates, resolves error presets, and scenario names are checked for duplicates.
- A directory loads its `*.yaml`, `*.yml` and `*.json` files (not sub-directories, not dot-files)
  in name order.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from ..library import resolve
from ..scenario import Scenario
from .build import CHOICE_KEYS, TEMPLATE_KEYS, Builder
from .errorkeys import FRAMING_HEADERS
from .explain import RESPONSE_KINDS, scenario_schema, schema_problems
from .positions import Lines, Where
from .yamltree import MAX_NODES, LineLoader, parse

__all__ = [
    "CHOICE_KEYS",
    "FRAMING_HEADERS",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "RESPONSE_KINDS",
    "SUFFIXES",
    "TEMPLATE_KEYS",
    "LineLoader",
    "Survey",
    "check_paths",
    "check_unique",
    "load_data",
    "load_paths",
    "load_text",
    "scenario_files",
    "scenario_schema",
    "survey_paths",
]

SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 10 * 1024 * 1024


def _where(data: Any, source: str, lines: Lines) -> Where:
    return Where(source, lines, isinstance(data, dict) and "scenarios" in data)


def _from_data(data: Any, source: str, lines: Lines, everything: bool = False) -> list[Scenario]:
    """Validate and build; with `everything`, raise a `_Problems` of all schema problems."""
    where = _where(data, source, lines)
    found = schema_problems(data, where)
    if found:
        raise found[0] if not everything else _Problems(found)
    scenarios = Builder(where).scenarios(data)
    check_unique(scenarios)
    return scenarios


class _Problems(Exception):
    def __init__(self, problems: list[ScenarioError]) -> None:
        super().__init__(str(problems[0]))
        self.problems = problems


def check_unique(
    scenarios: Iterable[Scenario], existing: Iterable[Scenario] = (), *, loaded: bool = False
) -> None:
    """Raise a ScenarioError naming both places if a name repeats (in `scenarios` or `existing`).
    `loaded`: `existing` are a server's scenarios already loaded; the message then says so, as
    their place may read like this text's (an earlier `<request body>`)."""
    seen: dict[str, Scenario] = {s.name: s for s in existing}
    loaded_names = set(seen) if loaded else set()
    for scenario in scenarios:
        first = seen.get(scenario.name)
        if first is not None:
            where = (
                f"a scenario of that name is already loaded (from {first.source}, earlier)"
                if scenario.name in loaded_names
                else f"also defined at {first.source}"
            )
            raise ScenarioError(
                f"duplicate scenario name {scenario.name!r}: {where}",
                scenario.source.file,
                scenario.source.line,
            )
        seen[scenario.name] = scenario


def load_text(text: str, source: str = "<string>") -> list[Scenario]:
    """Scenarios from YAML (or JSON) text; `source` names it in error messages.

    Raises ScenarioError (`source:line: message`) on any problem, including text over
    MAX_FILE_BYTES (as UTF-8) like a file; parsing time and memory are linear in the text.
    """
    if len(text) * 4 > MAX_FILE_BYTES:  # cheap bound first: a character is at most 4 bytes
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_FILE_BYTES:
            raise ScenarioError(f"too large ({size} bytes; limit {MAX_FILE_BYTES})", source)
    data, lines = parse(text, source, json_mode=False)
    return _from_data(data, source, lines)


def load_data(data: Any, source: str = "<dict>") -> list[Scenario]:
    """Scenarios from Python data: one scenario dict, `{"scenarios": [...]}`, or a list of dicts."""
    data = copy.deepcopy(data)
    if isinstance(data, (list, tuple)):
        data = {"scenarios": list(data)}
    return _from_data(data, source, {})


def _read(path: Path) -> str:
    source = str(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)  # never more than the limit in memory
            size = len(raw) if len(raw) <= MAX_FILE_BYTES else os.fstat(file.fileno()).st_size
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror or exc}", source) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"file too large ({size} bytes; limit {MAX_FILE_BYTES})", source)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text: {exc.reason} at byte {exc.start}", source) from None


def scenario_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """The files `paths` stand for: files as given, directories expanded in name order, and
    `library:NAME` / `library:` the shipped scenario library (`emulator.library`)."""
    for entry in paths:
        path = resolve(entry)
        if path.is_dir():
            yield from sorted(
                p
                for p in path.iterdir()
                if p.suffix in SUFFIXES and p.is_file() and not p.name.startswith(".")
            )
        elif path.exists():
            yield path
        else:
            raise ScenarioError("no such file or directory", str(path))


def _load_file(path: Path, everything: bool = False) -> list[Scenario]:
    source = str(path)
    data, lines = parse(_read(path), source, json_mode=path.suffix == ".json")
    return _from_data(data, source, lines, everything)


def load_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Scenario]:
    """All scenarios of the given files and directories, in load order; any problem raises."""
    loaded: list[Scenario] = []
    for path in scenario_files(paths):
        scenarios = _load_file(path)
        check_unique(scenarios, loaded)
        loaded.extend(scenarios)
    return loaded


@dataclass
class Survey:
    """What a check of scenario paths found: the files read, the scenarios that loaded, and
    every problem as a `file:line: message` string."""

    files: list[str] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_paths(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Every problem found in the given files and directories, as `file:line: message` strings.

    All schema problems of a file are reported; a file that passes the schema reports at most
    its first semantic problem (bad regex, template, duplicate name ...).
    """
    return survey_paths(paths).problems


def survey_paths(paths: Iterable[str | os.PathLike[str]]) -> Survey:
    """Load every file of `paths` as `check_paths` does, keeping the files read, the scenarios
    loaded and every problem (for `validate` and `serve` to report all of them)."""
    survey = Survey()
    for entry in paths:
        try:
            files_ = list(scenario_files([entry]))
        except ScenarioError as exc:
            survey.problems.append(str(exc))
            continue
        for path in files_:
            survey.files.append(str(path))
            try:
                scenarios = _load_file(path, everything=True)
                check_unique(scenarios, survey.scenarios)
            except _Problems as many:
                survey.problems.extend(str(p) for p in many.problems)
            except ScenarioError as exc:
                survey.problems.append(str(exc))
            else:
                survey.scenarios.extend(scenarios)
    return survey
