"""docs/inspector.md is true: its curl walk-through answers what the page shows, its printed
lines are what the code prints, and its screenshot ships beside it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from test_docs_examples import DOC_URL, blocks, conforms, run_shell

from emulator.inspection import inspector_url
from emulator.pytest_plugin import KEEP_OPTION
from emulator.testing import EmulatorServer

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "inspector.md"


def test_inspector_walkthrough() -> None:
    """Every curl example of docs/inspector.md, run in order on one server, answers what the
    doc shows (JSON: the fields shown; text: the first lines)."""
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    assert not missing, f"the walk-through runs its examples with {', '.join(missing)}"
    found = blocks(DOC)
    pairs = [(b, found[i + 1]) for i, b in enumerate(found) if b.lang == "sh"]
    assert len(pairs) == 4
    with EmulatorServer() as server:
        for block, answer in pairs:
            output = run_shell(block.text.replace(DOC_URL, server.url))
            if answer.lang == "json":
                problems = conforms(json.loads(answer.text), json.loads(output), "$")
                assert not problems, f"{block.text}\nanswered {output}\n" + "\n".join(problems)
            else:
                assert answer.lang == "text"
                assert output == answer.text, block.text


def test_printed_lines_are_the_code_s() -> None:
    """The address `serve` prints, the option name and the screenshot are as the doc says."""
    text = DOC.read_text()
    assert f"  inspector: {inspector_url('http://127.0.0.1:8080')}\n" in text
    assert f"inspector: {inspector_url('http://127.0.0.1:8080', 'x')}`" in text
    assert f"`pytest {KEEP_OPTION}`" in text
    image = DOC.parent / "inspector.png"
    assert "](inspector.png)" in text and image.stat().st_size < 200_000
