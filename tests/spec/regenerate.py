"""Rebuild tests/spec/router-schemas.json from the router's OpenAPI file.

    python tests/spec/regenerate.py PATH/TO/openapi.yaml [--commit SHA]

Keeps only what the emulator serves: the responses of the operations below (each status and
media type) and the component schemas they reach through `$ref`. Structure is kept (types,
required, enums, refs, combinators, bounds, formats); documentation (descriptions, examples,
titles, `x-` extensions) is dropped. The source's OpenAPI version, `info.version`, SHA-256 and
license are written into the file, and `--commit` records the commit it was taken from.
The conformance tests read only the file this writes, never the source.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

# operationId → the emulator route it describes
OPERATIONS = {
    "sendChatCompletionRequest": "POST /chat/completions",
    "getModels": "GET /models",
    "listModelsCount": "GET /models/count",
    "listEndpoints": "GET /models/{author}/{slug}/endpoints",
    "getCurrentKey": "GET /key",
    "getCredits": "GET /credits",
    "getGeneration": "GET /generation",
}
MEDIA = {"application/json": "json", "text/event-stream": "sse"}
DROPPED = {"description", "example", "examples", "title", "externalDocs", "deprecated", "$comment"}
NAMED_SCHEMAS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
VERBATIM = {"enum", "const", "required", "discriminator", "default", "format", "type"}
OUT = Path(__file__).with_name("router-schemas.json")


def strip(schema: Any) -> Any:
    """A schema without its documentation keywords; property names are kept as they are."""
    if isinstance(schema, list):
        return [strip(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in DROPPED or key.startswith("x-"):
            continue
        if key in NAMED_SCHEMAS and isinstance(value, dict):
            out[key] = {name: strip(sub) for name, sub in value.items()}
        elif key in VERBATIM:
            out[key] = value
        else:
            out[key] = strip(value)
    return out


def refs(value: Any) -> set[str]:
    """Names of the component schemas `value` refers to."""
    found: set[str] = set()
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for sub in value.values():
            found |= refs(sub)
    elif isinstance(value, list):
        for sub in value:
            found |= refs(sub)
    return found


def reduce(spec: dict[str, Any]) -> dict[str, Any]:
    """The operations' response schemas and every component schema they reach."""
    operations: dict[str, Any] = {}
    for path_item in spec["paths"].values():
        for op in path_item.values():
            if not isinstance(op, dict) or op.get("operationId") not in OPERATIONS:
                continue
            responses: dict[str, Any] = {}
            for status, response in op.get("responses", {}).items():
                content = response.get("content") or {}
                media = {
                    MEDIA[m]: strip(c["schema"])
                    for m, c in content.items()
                    if m in MEDIA and "schema" in c
                }
                if media:
                    responses[str(status)] = media
            operations[op["operationId"]] = responses
    missing = set(OPERATIONS) - set(operations)
    if missing:
        raise SystemExit(f"operations not in the spec: {', '.join(sorted(missing))}")
    components = spec["components"]["schemas"]
    wanted, todo = set(), refs(operations)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        todo |= refs(components[name]) - wanted
    schemas = {name: strip(components[name]) for name in sorted(wanted)}
    return {"operations": operations, "components": {"schemas": schemas}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("openapi", type=Path, help="the router's OpenAPI file (YAML or JSON)")
    parser.add_argument("--commit", help="the commit of the docs repository it comes from")
    args = parser.parse_args(argv)
    raw = args.openapi.read_bytes()
    spec = yaml.safe_load(raw)
    info = spec.get("info", {})
    document = {
        "source": {
            "file": args.openapi.name,
            "openapi": spec.get("openapi"),
            "info_version": info.get("version"),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "commit": args.commit,
            "license": (info.get("license") or {}).get("name"),
            "note": "Reduced copy: response schemas of the routes the emulator serves, "
            "documentation stripped. Regenerate with tests/spec/regenerate.py.",
        },
        "routes": OPERATIONS,
        **reduce(spec),
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")
    count = len(document["components"]["schemas"])
    print(f"wrote {OUT} ({count} component schemas, {OUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
