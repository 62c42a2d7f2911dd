"""docs/agents.md and docs/chaos.md are true: every ```yaml block loads, every ```python block
runs (each is a complete script with its own assertions) or, under an `<!-- example: FILE -->`
note, is that test file of the suite verbatim, and every warning or output shown is what the
code prints."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.loader import load_text

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "agents.md", ROOT / "docs" / "chaos.md")
FENCE = re.compile(
    r"(?:<!-- example: (?P<file>[^>]*?) -->\n)?^```(?P<info>[^`\n]*)\n(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    doc: str
    info: str
    body: str
    line: int
    file: str  # the suite's test file the block includes ("" for a script)

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks(info: str) -> list[Block]:
    found = []
    for doc in DOCS:
        if not doc.exists():
            continue
        text = doc.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if m["info"].strip() == info:
                line = text.count("\n", 0, m.start()) + 1
                found.append(Block(doc.name, info, m["body"], line, m["file"] or ""))
    return found


@pytest.mark.parametrize("block", blocks("yaml"), ids=lambda b: b.id)
def test_yaml_example_loads(block: Block) -> None:
    """Each yaml block of the page is a valid scenario file."""
    assert load_text(block.body, block.id)


@pytest.mark.parametrize("block", [b for b in blocks("python") if not b.file], ids=lambda b: b.id)
def test_python_example_runs(block: Block, caplog: pytest.LogCaptureFixture) -> None:
    """Each python block of the page runs to the end, its assertions holding, and logs no
    warning (a reader copying it should see none, e.g. of an agent loop)."""
    code = compile(block.body, block.id, "exec")
    with caplog.at_level(logging.WARNING, logger="emulator"):
        exec(code, {"__name__": "docs_example"})
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("block", [b for b in blocks("python") if b.file], ids=lambda b: b.id)
def test_included_example_is_the_file(block: Block) -> None:
    """A block under an example note is, verbatim, that file (which runs with the suite)."""
    assert block.body == (ROOT / block.file).read_text(encoding="utf-8")


def test_loop_warning_shown_is_what_validate_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warning line in docs/agents.md is what `validate` prints for a looping scenario."""
    from emulator import cli

    text = (ROOT / "docs" / "agents.md").read_text()
    shown = next(line for line in text.splitlines() if line.startswith("warning: loop.yaml"))
    (tmp_path / "loop.yaml").write_text(
        "name: weather-tool\nmatch: {tools: [get_weather]}\n"
        "reply:\n  tool_calls: [{name: get_weather}]\n"
    )
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", "loop.yaml"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == shown


def first_cells(heading: str) -> list[str]:
    """The first cells (backticks kept) of the table under `heading` in docs/chaos.md."""
    text = (ROOT / "docs" / "chaos.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| `")]


def test_every_stream_fault_key_is_documented() -> None:
    """The one-key table of docs/chaos.md lists exactly the stream fault keys, in order."""
    from emulator.wirefaults import FAULT_KEYS

    assert [c.strip("`") for c in first_cells("Fault kinds, one key each")] == list(FAULT_KEYS)


def test_the_sdk_table_covers_every_fault() -> None:
    """What the openai SDK makes of each fault: a row for every chaos kind and stream key."""
    from emulator.chaos import KINDS
    from emulator.wirefaults import FAULT_KEYS

    text = (ROOT / "docs" / "chaos.md").read_text(encoding="utf-8")
    section = text.split("## What the openai SDK makes of each fault\n", 1)[1].split("\n## ")[0]
    cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| ")]
    named = {name for cell in cells for name in re.findall(r"`([a-z_]+)`", cell)}
    assert set(KINDS) | set(FAULT_KEYS) | {"error_only"} <= named
