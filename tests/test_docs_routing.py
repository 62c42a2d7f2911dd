"""docs/routing.md is true: every curl example, run in order against the server its note names,
answers what the page shows; every Python example is, verbatim, a test file of this suite."""

from __future__ import annotations

import json
import shutil
from typing import Any

from conftest import FIXED_TIME
from test_docs_examples import DOC_URL, ROOT, blocks, conforms, run_shell

from emulator.config import Config
from emulator.testing import EmulatorServer

DOC = ROOT / "docs" / "routing.md"
BASE = {"fixed_time": FIXED_TIME, "time_scale": 0}
SERVERS: dict[str, dict[str, Any]] = {
    "server": BASE,
    "server: strict": {**BASE, "catalog_strict": True},
    "server: rpm=2": {**BASE, "rpm": 2},
    "server: fresh": BASE,
}
EXAMPLES = ROOT / "tests" / "docs_routing"


def test_routing_walkthrough() -> None:
    """Every sh block of docs/routing.md answers the json block after it."""
    missing = [tool for tool in ("bash", "curl", "jq", "awk") if shutil.which(tool) is None]
    assert not missing, f"the walk-through runs its examples with {', '.join(missing)}"
    found = blocks(DOC)
    servers: dict[str, EmulatorServer] = {}
    ran = 0
    try:
        for i, block in enumerate(found):
            if block.lang != "sh":
                continue
            assert block.note in SERVERS, f"unknown server note {block.note!r}"
            if block.note not in servers:
                servers[block.note] = EmulatorServer(Config(**SERVERS[block.note])).start()
            answer = found[i + 1]
            assert answer.lang == "json", f"no ```json answer after:\n{block.text}"
            output = run_shell(block.text.replace(DOC_URL, servers[block.note].url))
            problems = conforms(json.loads(answer.text), json.loads(output), "$")
            assert not problems, f"{block.text}\nanswered {output}\n" + "\n".join(problems)
            ran += 1
    finally:
        for server in servers.values():
            server.stop()
    assert ran >= 14


def included() -> list[tuple[str, str]]:
    """(path, text) of each `<!-- example: PATH -->` block of the page."""
    return [
        (b.note.removeprefix("example: "), b.text)
        for b in blocks(DOC)
        if b.note.startswith("example: ")
    ]


def test_included_examples_are_the_files() -> None:
    """Each example block is, verbatim, the test file named above it, and every file of
    tests/docs_routing is on the page (so each runs as a test of this suite)."""
    shown = dict(included())
    files = {str(p.relative_to(ROOT)) for p in EXAMPLES.glob("*.py")}
    assert set(shown) == files
    for path, text in shown.items():
        assert text == (ROOT / path).read_text(), path
