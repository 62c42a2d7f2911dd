"""The compiled schema check's own `$ref` resolution (emulator.fastschema.Resolver): what our
schema files use resolves, anything else fails loudly at start-up rather than being skipped."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.fastschema import FastCompiler, Resolver
from emulator.validation import load_schemas

BASE = "https://example.test/schemas/"
DOCUMENTS: dict[str, Any] = {
    BASE + "a.json": {
        "$id": BASE + "a.json",
        "type": "object",
        "properties": {"b": {"$ref": "b.json#/$defs/a~1b"}, "self": {"$ref": "#/$defs/n"}},
        "$defs": {"n": {"type": "integer", "minimum": 1}},
    },
    BASE + "b.json": {
        "$id": BASE + "b.json",
        "$defs": {
            "a/b": {"type": "array", "items": {"$ref": "#/$defs/t~0x"}},
            "t~x": {"enum": [1]},
        },
    },
}


def test_relative_references_and_escaped_pointers_resolve() -> None:
    """A reference to another document by a relative URI, with `~1` and `~0` escapes in its
    JSON Pointer, and a same-document pointer inside it, resolve to the right schemas."""
    contents, inner = Resolver(DOCUMENTS).lookup(BASE + "b.json#/$defs/a~1b")
    assert contents == {"type": "array", "items": {"$ref": "#/$defs/t~0x"}}
    assert inner.lookup("#/$defs/t~0x")[0] == {"enum": [1]}
    check = FastCompiler(DOCUMENTS).compile_uri(BASE + "a.json")
    assert check({"b": [1, 1], "self": 3})
    assert not check({"b": [2]})
    assert not check({"self": 0})


@pytest.mark.parametrize(
    ("ref", "wanted"),
    [
        ("c.json", "no schema document"),
        ("#anchor", "only JSON Pointer"),
        ("#/$defs/missing", "nothing at"),
        ("https://elsewhere.test/a.json", "no schema document"),
    ],
)
def test_an_unsupported_or_dangling_reference_raises(ref: str, wanted: str) -> None:
    """A reference to an unknown document, an anchor or a missing pointer target raises
    ValueError naming it (at start-up: the schemas are compiled once)."""
    with pytest.raises(ValueError, match=wanted):
        Resolver(DOCUMENTS, BASE + "a.json").lookup(ref)


def test_the_shipped_request_schemas_resolve_without_referencing() -> None:
    """Every `$ref` in the shipped API schemas resolves through our resolver (the request
    check compiles), the same set of documents jsonschema's registry is given."""
    schemas = load_schemas()
    documents = {schema["$id"]: schema for schema in schemas.values()}
    check = FastCompiler(documents).compile_uri(
        BASE.replace("example.test", "chat-emulator.dev") + "request.schema.json"
    )
    assert check({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    assert not check({"model": "openai/gpt-4o", "messages": [{"role": "nobody"}]})
