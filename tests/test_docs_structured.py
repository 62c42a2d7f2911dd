"""docs/structured-output.md is true: its example is the test file it names (which the suite
runs), and the reasons it quotes are the ones the generator gives."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from faker import Faker

from emulator.errors import GenerationError
from emulator.jsongen import generate_json

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "structured-output.md").read_text()
BLOCK = re.compile(r"<!-- example: (?P<path>\S+) -->\n```python\n(?P<text>.*?)^```$", re.S | re.M)


def test_example_block_is_the_test_file() -> None:
    """The page's example is, verbatim, the file named above it."""
    (match,) = BLOCK.finditer(DOC)
    assert match["text"] == (ROOT / match["path"]).read_text()


QUOTED: list[tuple[Any, str]] = [
    ({"type": "object", "required": ["a"], "propertyNames": {"maxLength": 0}}, "cannot generate a value for #: required property 'a' does not satisfy propertyNames"),
    ({"type": "integer", "minimum": 5, "maximum": 1}, "minimum 5 is greater than maximum 1"),
    ({"type": "string", "enum": [1, 2]}, "no 'enum' value satisfies the other keywords"),
    ({"type": "object", "propertyNames": {"enum": ["a"]}, "minProperties": 2}, "minProperties 2 needs more keys than propertyNames,\npatternProperties and additionalProperties allow"),
    ({"not": {}}, "no value found that satisfies 'not'"),
    ({"type": "array", "minItems": 200, "items": {"type": "string", "minLength": 100000}}, "the schema asks for more than 1,000,000\ncharacters in\ntotal (minItems 200 \u00d7 at least 100,000 for each item of #/items)"),
]  # fmt: skip


@pytest.mark.parametrize(("schema", "quoted"), QUOTED, ids=[q[:40] for _, q in QUOTED])
def test_quoted_reasons_are_the_generators(schema: Any, quoted: str) -> None:
    """Each reason the page quotes (line breaks aside) is in the generator's message."""
    assert " ".join(quoted.split()) in " ".join(DOC.split())
    with pytest.raises(GenerationError) as raised:
        generate_json(schema, random.Random(0), Faker())
    assert " ".join(quoted.split()) in str(raised.value)
