"""Catalog files: YAML (or JSON) text → checked model entries → a `Catalog`.

The format is docs/catalog.md's (JSON Schema `emulator/catalogs/catalog-file.schema.json`):
`models:` (a list of entries in the router's Model shape, each with `endpoints:`), an optional
`replace: true` (drop the built-in catalog), and `x-...` keys free for YAML anchors. Every problem
is a `ScenarioError` whose text is `file:line: message`. The built-in catalog is a file of this
format shipped in the package.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator import diskcache
from emulator.catalog import Catalog, split_variants
from emulator.errors import ScenarioError
from emulator.loader.yamltree import parse as parse_yaml

if TYPE_CHECKING:
    import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema stubs installed

BUILTIN_SOURCE = "<built-in catalog>"
MAX_CATALOG_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class CatalogFile:
    """A checked catalog file: its model entries (plain data) and whether it replaces the
    catalog it is applied to."""

    entries: tuple[Mapping[str, Any], ...]
    replace: bool = False

    def apply(self, catalog: Catalog) -> Catalog:
        """`catalog` with this file's entries applied (see `Catalog.merged`)."""
        return catalog.merged(self.entries, replace=self.replace)


def parse_catalog(
    text: str, source: str = "<catalog>", *, schema_check: bool = True
) -> CatalogFile:
    """Parse and check catalog-file text (YAML or JSON). Raises `ScenarioError` with
    `source:line: message` for a syntax error, a schema violation or a duplicate model id.
    `schema_check=False` skips the JSON Schema check (the built-in catalog: a test checks it)."""
    if len(text.encode()) > MAX_CATALOG_BYTES:
        raise ScenarioError(f"catalog file is larger than {MAX_CATALOG_BYTES} bytes", source)
    empty = ScenarioError("empty catalog file: expected a mapping with 'models: [...]'", source, 1)
    if not text.strip():
        raise empty
    try:
        data, lines = parse_yaml(text, source, False)
    except ScenarioError as exc:
        raise (empty if exc.reason.startswith("empty file") else exc) from None
    problems = (
        sorted(_validator().iter_errors(data), key=lambda e: _line(lines, tuple(e.absolute_path)))
        if schema_check
        else []
    )
    if problems:
        first = problems[0]
        path = tuple(first.absolute_path)
        unknown = _unknown_keys(first)
        line_path = path + (unknown[0],) if unknown else path
        raise ScenarioError(_message(first, path), source, _line(lines, line_path))
    seen: dict[str, int] = {}
    for index, entry in enumerate(data.get("models") or []):
        model_id = entry["id"]
        line = _line(lines, ("models", index, "id"))
        if model_id in seen:
            raise ScenarioError(
                f"duplicate model id {model_id!r} (first at line {seen[model_id]})", source, line
            )
        seen[model_id] = line
        base, variants = split_variants(model_id)
        if variants and variants != ("free",):
            raise ScenarioError(
                f"model id {model_id!r} ends in a routing variant "
                f"(:{', :'.join(variants)}); list the base model {base!r} instead "
                "(only ':free' variants have entries of their own)",
                source,
                line,
            )
    return CatalogFile(tuple(data.get("models") or ()), data.get("replace") is True)


def load_catalog_file(path: str | Path) -> CatalogFile:
    """Read and check the catalog file at `path` (errors as `parse_catalog`; an unreadable
    file is a `ScenarioError` naming it)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read catalog file: {exc}", str(path)) from None
    return parse_catalog(text, str(path))


@functools.lru_cache(maxsize=1)
def builtin_catalog() -> Catalog:
    """The catalog shipped with the package (read once per process). Its schema check is left
    to the test suite: it would cost most of a start-up's time (jsonschema and its check); its
    parsed entries are cached on disk (`emulator.diskcache`, keyed by the file's digest)."""
    text = builtin_catalog_text()

    def parse() -> list[Any]:
        return list(parse_catalog(text, BUILTIN_SOURCE, schema_check=False).entries)

    entries = diskcache.cached(
        f"catalog-{diskcache.digest(text)}", parse, lambda value: isinstance(value, list)
    )
    return CatalogFile(tuple(entries)).apply(Catalog())


def builtin_catalog_text() -> str:
    """The built-in catalog file's text (YAML, the catalog-file format)."""
    return resources.files("emulator.catalogs").joinpath("builtin.yaml").read_text("utf-8")


def build_catalog(paths: Sequence[str | Path] = (), base: Catalog | None = None) -> Catalog:
    """The built-in catalog (or `base`) with the catalog files at `paths` applied in order."""
    catalog = builtin_catalog() if base is None else base
    for path in paths:
        catalog = load_catalog_file(path).apply(catalog)
    return catalog


@functools.lru_cache(maxsize=1)
def catalog_file_schema() -> dict[str, Any]:
    """The JSON Schema of catalog files, shipped with the package."""
    text = resources.files("emulator.catalogs").joinpath("catalog-file.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text("utf-8"))
    return schema


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # imported on first use: most runs only read the built-in catalog

    return jsonschema.Draft202012Validator(catalog_file_schema())


def _line(lines: Mapping[tuple[Any, ...], int], path: tuple[Any, ...]) -> int:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


def _unknown_keys(error: jsonschema.ValidationError) -> list[str]:
    """The keys an `additionalProperties: false` error is about, in the file's order."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    known = error.schema.get("properties", {})
    return [k for k in error.instance if k not in known and not k.startswith("x-")]


def _message(error: jsonschema.ValidationError, path: tuple[Any, ...]) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    where = where or "the file"
    unknown = _unknown_keys(error)
    if unknown:
        allowed = sorted(error.schema.get("properties", {}))
        names = ", ".join(repr(k) for k in unknown)
        return f"{where}: unknown key {names}; valid keys are: {', '.join(allowed)}"
    if error.validator == "enum":
        valid = ", ".join(json.dumps(v) for v in error.validator_value)
        return f"{where}: {error.instance!r} is not one of: {valid}"
    return f"{where}: {error.message}"
