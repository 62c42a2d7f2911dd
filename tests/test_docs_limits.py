"""docs/limits.md is true: its flags table matches the command line, and its examples are what
the server answers and what the fixture reports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.cli import build_parser
from emulator.deadline import BudgetExceeded
from emulator.testing import EmulatorServer

DOC = Path(__file__).resolve().parent.parent / "docs" / "limits.md"


def flag_rows() -> list[tuple[str, str]]:
    section = DOC.read_text().split("## The flags\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| `--")]
    return [(row[1].strip().strip("`"), row[2].strip()) for row in rows]


def serve_defaults() -> dict[str, Any]:
    args = build_parser().parse_args(["serve"])
    return vars(args)


@pytest.mark.parametrize(("flag", "default"), flag_rows())
def test_documented_flag_exists_with_its_default(flag: str, default: str) -> None:
    """Each flag of the table is a `serve` option, and its documented default is the real one."""
    value = serve_defaults()[flag.lstrip("-").replace("-", "_")]
    assert float(default) == float(value)


def test_budget_example_is_the_answer(make_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 413 shown for a body past the budget is what the server answers."""
    server: EmulatorServer = make_server()

    async def over_budget(*args: object) -> None:
        raise BudgetExceeded("test")

    monkeypatch.setattr(server.emulator.bounded, "run", over_budget)
    body = {"model": "m", "messages": [{"role": "user", "content": "x" * 20_000}]}
    answer = requests.post(
        server.base_url + "/chat/completions",
        json=body,
        headers={"Authorization": "Bearer k"},
        timeout=10,
    )
    shown = re.search(r"```json\n(.*?)\n```", DOC.read_text(), re.S)
    assert shown is not None
    assert answer.status_code == 413
    assert answer.json() == json.loads(shown[1])
