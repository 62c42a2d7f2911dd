"""docs/pytest.md and docs/admin.md are true: every example is a test of this suite, and the
docs cannot drift from the code (the included files, the report text, the tables, the curl
walk-through and its answers)."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Imported before pytester's in-process run (which drops what a run imports): kept fast.
import openai  # noqa: F401
import pytest

from emulator.cli import build_parser
from emulator.config import Config
from emulator.journal import JournalEntry
from emulator.pytest_plugin import MARKER_OPTIONS
from emulator.testing import EmulatorServer

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "docs_examples"
PYTEST_DOC = ROOT / "docs" / "pytest.md"
ADMIN_DOC = ROOT / "docs" / "admin.md"
DOC_URL = "http://localhost:8080"
BLOCK = re.compile(
    r"(?:<!-- (?P<note>[^>]*?) -->\n)?^```(?P<lang>\w+)\n(?P<text>.*?)^```$", re.S | re.M
)


@dataclasses.dataclass(frozen=True)
class Block:
    note: str  # the HTML comment right above the block, if any
    lang: str
    text: str


def blocks(doc: Path) -> list[Block]:
    return [Block(m["note"] or "", m["lang"], m["text"]) for m in BLOCK.finditer(doc.read_text())]


def table(doc: Path, heading: str) -> list[str]:
    """The first cells of the first table under `heading`, backticks removed."""
    section = doc.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [row.split("|")[1].strip() for row in rows]


# --- docs/pytest.md ------------------------------------------------------------------------------


def included() -> list[Block]:
    return [b for b in blocks(PYTEST_DOC) if b.note.startswith("example: ")]


@pytest.mark.parametrize("block", included(), ids=lambda b: b.note.removeprefix("example: "))
def test_included_example_is_the_file(block: Block) -> None:
    """Each example block of docs/pytest.md is, verbatim, the file named above it."""
    path = ROOT / block.note.removeprefix("example: ")
    assert block.text == path.read_text()


def test_every_example_file_is_in_the_doc() -> None:
    """No example file is left out of the doc (and so untested as documentation)."""
    files = {p for p in EXAMPLES.rglob("*") if p.suffix in (".py", ".yaml")}
    shown = {ROOT / b.note.removeprefix("example: ") for b in included()}
    assert files == shown


def test_teardown_report_in_the_doc_is_what_pytest_prints(pytester: pytest.Pytester) -> None:
    """The report shown in docs/pytest.md is exactly what its failing example prints."""
    (output,) = [b for b in blocks(PYTEST_DOC) if b.note.startswith("output of: ")]
    source = ROOT / output.note.removeprefix("output of: ")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    shutil.copytree(EXAMPLES / "scenarios", pytester.path / "scenarios")
    (pytester.path / "test_example.py").write_text(source.read_text())
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    expected = output.text.splitlines()
    lines = result.stdout.lines
    start = lines.index(expected[0])
    assert lines[start : start + len(expected)] == expected


def test_journal_fields_are_all_documented() -> None:
    """The journal table of docs/pytest.md names every JournalEntry field, and only those."""
    names = [
        n.strip("`")
        for cell in table(PYTEST_DOC, "What the journal records")
        for n in cell.split(", ")
    ]
    # `events` is read through a property over the stored `played` tuples (see journal.py).
    fields = {f.name for f in dataclasses.fields(JournalEntry)} - {"played"} | {"events"}
    assert sorted(names) == sorted(fields)


def test_marker_options_are_all_documented() -> None:
    """The marker table of docs/pytest.md lists exactly the options the plugin accepts."""
    assert [c.strip("`") for c in table(PYTEST_DOC, "The marker")] == list(MARKER_OPTIONS)


def test_documented_fixture_api_exists() -> None:
    """Every name in the fixture table of docs/pytest.md is an attribute of the fixture."""
    names = [re.sub(r"\(.*", "", c.strip("`")) for c in table(PYTEST_DOC, "The fixture")]
    known = set(dir(EmulatorServer)) | set(vars(EmulatorServer()))  # class and instance attributes
    assert names and [n for n in names if n not in known] == []


# --- docs/admin.md -------------------------------------------------------------------------------


def walkthrough() -> Iterator[tuple[Block, Block | None]]:
    """Each sh block of docs/admin.md with the json block right after it (if any)."""
    found = blocks(ADMIN_DOC)
    for i, block in enumerate(found):
        if block.lang == "sh":
            after = found[i + 1] if i + 1 < len(found) and found[i + 1].lang == "json" else None
            yield block, after


def test_serve_command_in_the_doc_parses() -> None:
    """The `chat-emulator serve` line of docs/admin.md is a valid command line."""
    commands = [b.text for b, _ in walkthrough() if b.text.startswith("chat-emulator ")]
    assert commands
    for command in commands:
        build_parser().parse_args(shlex.split(command)[1:])


def test_admin_walkthrough(tmp_path: Path) -> None:
    """Every curl example of docs/admin.md, run in order in an empty folder (the walk-through
    writes the files it posts), answers what the doc shows."""
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    assert not missing, f"the admin walk-through runs its examples with {', '.join(missing)}"
    servers: dict[str, EmulatorServer] = {}
    try:
        for block, answer in walkthrough():
            if block.text.startswith("chat-emulator "):
                continue
            server = servers.get(block.note) or servers.setdefault(block.note, start(block.note))
            output = run_shell(block.text.replace(DOC_URL, server.url), tmp_path)
            assert answer is not None, f"no ```json answer after:\n{block.text}"
            problems = conforms(json.loads(answer.text), json.loads(output), "$")
            assert not problems, f"{block.text}\nanswered {output}\n" + "\n".join(problems)
    finally:
        for server in servers.values():
            server.stop()


def start(note: str) -> EmulatorServer:
    """A server for blocks under `<!-- server: key=value -->` (or a plain one)."""
    settings: dict[str, Any] = dict(i.split("=", 1) for i in note.removeprefix("server:").split())
    return EmulatorServer(Config(**settings)).start()


def run_shell(script: str, cwd: Path = EXAMPLES) -> str:
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def conforms(expected: Any, actual: Any, path: str) -> list[str]:
    """How `actual` differs from the doc's `expected` (only shown fields; "..." elides)."""
    if expected == "...":
        return []
    if isinstance(expected, str) and expected.endswith("...") and isinstance(actual, str):
        ok = actual.startswith(expected[:-3])
        return [] if ok else [f"{path}: {actual!r} does not start with {expected[:-3]!r}"]
    if isinstance(expected, dict) and isinstance(actual, dict):
        return [
            p
            for key, value in expected.items()
            if key != "..."
            for p in (
                conforms(value, actual[key], f"{path}.{key}")
                if key in actual
                else [f"{path}.{key}: missing"]
            )
        ]
    if isinstance(expected, list) and isinstance(actual, list):
        return _list_conforms(expected, actual, path)
    same = expected == actual and type(expected) is type(actual)
    return [] if same else [f"{path}: {actual!r}, the doc shows {expected!r}"]


def _list_conforms(expected: list[Any], actual: list[Any], path: str) -> list[str]:
    more = bool(expected) and expected[-1] == "..."
    shown = expected[:-1] if more else expected
    if len(actual) < len(shown) or (not more and len(actual) != len(shown)):
        return [f"{path}: {len(actual)} items, the doc shows {len(shown)}"]
    return [p for i, item in enumerate(shown) for p in conforms(item, actual[i], f"{path}[{i}]")]
