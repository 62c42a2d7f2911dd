"""YAML (or JSON) text → plain JSON-like data plus the line of every JSON path.

YAML is composed with a `yaml.SafeLoader` subclass and converted here node by node, which is how
each JSON path gets its line. Mapping keys are always text (so `on:` stays "on"); duplicate keys,
recursive aliases, non-finite numbers and non-JSON types (binary, sets, Python tags) are rejected.
Timestamps stay text. `*.json` files use JSON's scalar rules. Errors are `ScenarioError`s with
the line of the offending node.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints; types-PyYAML not installed

from ..errors import ScenarioError
from .positions import JsonPath

MAX_NODES = 200_000  # bounds alias expansion ("billion laughs")
MAX_DEPTH = 100  # mappings and lists inside each other; keeps every walk of the data shallow

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_DOUBLE_BITS = 1024  # 2**1024 is past the largest double


# libyaml (C) composes in linear time and bounds nesting itself; PyYAML's own parser is ~10x
# slower and recursive, so it is only the fallback where PyYAML was built without libyaml.
_SafeBase = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


class LineLoader(_SafeBase):  # type: ignore[misc,valid-type]  # yaml is untyped
    """A safe loader used only to compose nodes (and construct plain scalars)."""


def _yaml_error(exc: yaml.YAMLError, source: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        problem += f" ({context} at line {context_mark.line + 1})"
    elif context:
        problem += f" ({context})"
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, yaml.constructor.ConstructorError):
        return ScenarioError(f"unsupported YAML value: {problem}", source, line)
    return ScenarioError(f"YAML syntax error: {problem}", source, line)


class _Converter:
    """Turns composed YAML nodes into plain JSON-like data and records the line of every path."""

    def __init__(self, loader: LineLoader, source: str, json_mode: bool) -> None:
        self.loader = loader
        self.source = source
        self.json_mode = json_mode
        self.lines: dict[JsonPath, int] = {}
        self.count = 0
        self.active: set[int] = set()
        self.flattened: set[int] = set()

    def fail(self, node: yaml.Node, message: str) -> ScenarioError:
        return ScenarioError(message, self.source, node.start_mark.line + 1)

    def convert(self, node: yaml.Node, path: JsonPath, line: int) -> Any:
        self.lines[path] = line
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, f"too many values (over {MAX_NODES}; aliases expanding?)")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if len(self.active) >= MAX_DEPTH:
            raise self.fail(node, f"nested too deeply (over {MAX_DEPTH} levels of lists/mappings)")
        if id(node) in self.active:
            raise self.fail(node, "recursive alias: a value may not contain itself")
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
                return self.mapping(node, path)
            if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
                return [
                    self.convert(item, path + (i,), item.start_mark.line + 1)
                    for i, item in enumerate(node.value)
                ]
            raise self.fail(
                node, f"unsupported YAML tag {node.tag!r}; use mappings, lists and scalars"
            )
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.ScalarNode) -> Any:
        value = self._scalar_value(node)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(node, f"non-finite number {node.value!r} is not allowed")
        # An integer beyond a double is no duration, rate or count anyone means (and every
        # float() of it overflows); refused like 1e999.
        if isinstance(value, int) and value.bit_length() > _DOUBLE_BITS:
            raise self.fail(node, f"number {_short(node.value)} is too large (beyond 1.8e308)")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise self.fail(node, f"unsupported YAML value of tag {node.tag!r}")
        return value

    def _scalar_value(self, node: yaml.ScalarNode) -> Any:
        if self.json_mode and not node.style and node.tag != _TIMESTAMP_TAG:  # plain: None or ""
            try:
                return json.loads(node.value)  # NaN, Infinity and 1e999 are refused by the caller
            except ValueError:
                pass
        if node.tag == _TIMESTAMP_TAG:
            return node.value
        try:
            return self.loader.construct_object(node)
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, self.source) from None
        except ValueError:  # an integer of more digits than Python converts (4300)
            raise self.fail(node, f"number {_short(node.value)} is too large") from None

    def mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        if id(node) not in self.flattened:
            self.check_keys(node)
            self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
            self.flattened.add(id(node))
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out[key] = self.convert(value_node, path + (key,), key_node.start_mark.line + 1)
        return out

    def check_keys(self, node: yaml.MappingNode) -> None:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "mapping keys must be plain text")
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                raise self.fail(
                    key_node,
                    f"duplicate key {key_node.value!r} (first at line {seen[key_node.value]})",
                )
            seen[key_node.value] = line


ONE_LINE_HINT = (
    "; the text is a single line: `curl -d @file` removes a file's line breaks, "
    "send it with `curl --data-binary @file`"
)


def parse(text: str, source: str, json_mode: bool) -> tuple[Any, dict[JsonPath, int]]:
    """The data of one YAML (or, with `json_mode`, JSON) document and the line of each JSON path.

    Raises ScenarioError (`source:line: message`) on a syntax error, an empty document, an
    unsupported value, duplicate keys, recursive aliases, more than MAX_NODES values or more
    than MAX_DEPTH levels of nesting. Time and memory are linear in the size of `text`.
    """
    loader = LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(
                "empty file: expected a scenario (a mapping with 'name') or 'scenarios: [...]'",
                source,
                1,
            )
        converter = _Converter(loader, source, json_mode)
        data = converter.convert(node, (), node.start_mark.line + 1)
        return data, converter.lines
    except yaml.YAMLError as exc:
        error = _yaml_error(exc, source)
        if "\n" not in text.strip() and not json_mode:
            error = ScenarioError(error.reason + ONE_LINE_HINT, source, error.line)
        raise error from None
    except RecursionError:  # only PyYAML's pure-Python composer recurses (libyaml bounds depth)
        raise ScenarioError(
            f"nested too deeply (over {MAX_DEPTH} levels of lists/mappings)", source
        ) from None
    finally:
        loader.dispose()


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}... ({len(text)} characters)"
