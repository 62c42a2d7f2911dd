"""Regenerate tests/spec/catalog-schemas.json: the response schemas of the router's catalog,
key, credits and generation endpoints, cut from its OpenAPI spec (MIT licensed).

    python tests/spec/catalog_extract.py PATH/TO/router-openapi.yaml

Keeps each operation's 200 response schema and every component it refers to, with their
structure (types, required, enums, refs) and without descriptions and examples. The tests
validate the emulator's answers against it (see tests/test_catalog_routes.py), never the spec
file itself.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

OPERATIONS = {
    "getModels": ("/models", "get"),
    "listModelsCount": ("/models/count", "get"),
    "listEndpoints": ("/models/{author}/{slug}/endpoints", "get"),
    "getCurrentKey": ("/key", "get"),
    "getCredits": ("/credits", "get"),
    "getGeneration": ("/generation", "get"),
}
DROPPED = {"description", "example", "examples", "summary", "x-speakeasy-name-override"}
OUT = Path(__file__).with_name("catalog-schemas.json")


def strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROPPED}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= refs(value)
    return found


def main(spec_path: str) -> None:
    raw = Path(spec_path).read_bytes()
    spec = yaml.safe_load(raw)
    components = spec["components"]["schemas"]
    operations = {}
    for name, (path, method) in OPERATIONS.items():
        response = spec["paths"][path][method]["responses"]["200"]
        operations[name] = strip(response["content"]["application/json"]["schema"])
    wanted, todo = set(), refs(operations)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo |= refs(components[name])
    out = {
        "source": "the router's OpenAPI spec (MIT license), reduced to the schemas served",
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "operations": operations,
        "components": {"schemas": {k: strip(components[k]) for k in sorted(wanted)}},
    }
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
