"""docs/catalog.md is true: its catalog file loads, its broken-file message is what the loader
says, and every curl example, run in order against a server with that file, answers what the
page shows."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXED_TIME
from test_docs_examples import DOC_URL, ROOT, blocks, conforms, run_shell

from emulator.catalogfile import parse_catalog
from emulator.config import Config
from emulator.errors import ScenarioError
from emulator.testing import EmulatorServer

DOC = ROOT / "docs" / "catalog.md"


def catalog_text() -> str:
    (block,) = [b for b in blocks(DOC) if b.note == "file: my-catalog.yaml"]
    return block.text


def test_the_documented_catalog_file_loads() -> None:
    """The page's catalog file is valid and does what its comments say."""
    entries = parse_catalog(catalog_text(), "my-catalog.yaml").entries
    assert [e["id"] for e in entries] == ["acme/rocket-1", "openai/gpt-4o", "openai/gpt-4o-mini"]


def test_the_documented_error_is_the_loaders() -> None:
    """The broken-file message on the page is what a wrong price type gives, at its line."""
    (shown,) = [b.text for b in blocks(DOC) if b.lang == "text" and "error:" in b.text]
    broken = catalog_text().replace('prompt: "0.000001"', "prompt: 1")
    with pytest.raises(ScenarioError) as caught:
        parse_catalog(broken, "my-catalog.yaml")
    assert shown.strip() == f"error: {caught.value}"


def test_catalog_walkthrough(tmp_path: Path) -> None:
    """Every curl example of docs/catalog.md, run in order, answers what the page shows."""
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    assert not missing, f"the walk-through runs its examples with {', '.join(missing)}"
    path = tmp_path / "my-catalog.yaml"
    path.write_text(catalog_text())
    config = Config(fixed_time=FIXED_TIME, time_scale=0, key_limit=10.0, catalog_paths=(str(path),))
    found = blocks(DOC)
    ran = 0
    with EmulatorServer(config) as server:
        for i, block in enumerate(found):
            if block.lang != "sh":
                continue
            answer = found[i + 1]
            assert answer.lang == "json", f"no ```json answer after:\n{block.text}"
            output = run_shell(block.text.replace(DOC_URL, server.url))
            problems = conforms(_json(answer.text), _json(output), "$")
            assert not problems, f"{block.text}\nanswered {output}\n" + "\n".join(problems)
            ran += 1
    assert ran >= 6


def _json(text: str) -> object:
    return json.loads(text)


def test_every_filter_in_the_table_is_parsed() -> None:
    """The filter table lists exactly the parameters the /models query parser reads."""
    section = (
        DOC.read_text().split("| parameter | keeps the models that |", 1)[1].split("\n\n", 1)[0]
    )
    documented = {
        n.strip("` ")
        for row in re.findall(r"^\| ([^|]+) \|", section, re.M)
        for n in row.split(",")
    }
    source = (ROOT / "emulator" / "modelquery.py").read_text()
    read = set(re.findall(r'params\.get\("(\w+)"', source)) | {
        "min_price",
        "max_price",
        "min_output_price",
        "max_output_price",
    }
    assert documented == read - {"sort"}
