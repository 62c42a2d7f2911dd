"""Scenario files → the scenario model. YAML (safe) → schema check → semantic checks → model.

Every problem is a `ScenarioError` whose text is `file:line: message`, with the line of the
offending key or value. Nothing half-loads: one problem anywhere and the whole call raises.

- YAML is composed with a `yaml.SafeLoader` subclass and converted here node by node, which is how
  each JSON path gets its line. Mapping keys are always text (so `on:` stays "on"); duplicate keys,
  recursive aliases, non-finite numbers and non-JSON types (binary, sets, Python tags) are rejected.
  Timestamps stay text. `*.json` files use JSON's scalar rules.
- Every file is validated against `emulator.schemas/scenario.schema.json`; then regexes are
  compiled,
  templates parsed, error presets resolved, and scenario names checked for duplicates.
- A directory loads its `*.yaml`, `*.yml` and `*.json` files (not sub-directories, not dot-files)
  in name order.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema stubs installed
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints; types-PyYAML not installed

from .errors import ScenarioError
from .presets import error_body_preset, error_preset
from .scenario import (
    MAX_KEEPALIVES,
    ChoiceSpec,
    Chunking,
    ErrorBody,
    ErrorReply,
    Fault,
    Framing,
    Interval,
    KeepAlive,
    Match,
    Reply,
    Response,
    Scenario,
    SourceRef,
    StreamEvent,
    StreamSpec,
    TextMatcher,
    ToolCallSpec,
)
from .templating import parse_template

SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_NODES = 200_000  # bounds alias expansion ("billion laughs")
RESPONSE_KINDS = ("reply", "error", "fault", "sequence")
CHOICE_KEYS = (
    "content",
    "reasoning",
    "refusal",
    "tool_calls",
    "finish_reason",
    "native_finish_reason",
    "choice_error",
)
TEMPLATE_KEYS = ("content", "reasoning", "refusal")

Key = str | int
JsonPath = tuple[Key, ...]
Lines = Mapping[JsonPath, int]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


# --- the schema ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    return files("emulator.schemas").joinpath("scenario.schema.json").read_text(encoding="utf-8")


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file (a fresh copy)."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(scenario_schema())


# --- YAML with lines ----------------------------------------------------------------------


# Headers that frame the HTTP response: a scripted value would corrupt it (a short
# Content-Length truncates the body), so scenarios cannot set them.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


class LineLoader(yaml.SafeLoader):  # type: ignore[misc]  # yaml is untyped
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
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise self.fail(node, f"unsupported YAML value of tag {node.tag!r}")
        return value

    def _scalar_value(self, node: yaml.ScalarNode) -> Any:
        if self.json_mode and node.style is None and node.tag != _TIMESTAMP_TAG:
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


def _parse(text: str, source: str, json_mode: bool) -> tuple[Any, dict[JsonPath, int]]:
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
        raise _yaml_error(exc, source) from None
    finally:
        loader.dispose()


# --- schema problems → messages ----------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    """Where the data came from, to turn JSON paths into `file:line` and readable names."""

    source: str
    lines: Lines
    file_form: bool

    def line(self, path: JsonPath) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def name(self, path: JsonPath) -> str:
        rest = path
        if self.file_form:
            if not path:
                return "file"
            if len(path) >= 2 and path[0] == "scenarios" and isinstance(path[1], int):
                rest = path[2:]
        text = ""
        for key in rest:
            text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
        return text or "scenario"

    def error(
        self, path: JsonPath, message: str, line_path: JsonPath | None = None
    ) -> ScenarioError:
        return ScenarioError(
            message, self.source, self.line(path if line_path is None else line_path)
        )


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"a string ({_short(value)})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return repr(text[: limit - 3] + "..." if len(text) > limit else text)


def _shown(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"[\w./-]+", value):
        return value
    return json.dumps(value)


def _type_names(schema: Mapping[str, Any]) -> str:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_NAMES.get(t, t) for t in types) or "a valid value"


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    defs = _validator().schema["$defs"]
    while "$ref" in schema:
        schema = defs[str(schema["$ref"]).rsplit("/", 1)[-1]]
    return schema


def _fits(schema: Mapping[str, Any], value: Any) -> bool:
    types = schema.get("type")
    if types is None:
        return True
    types = [types] if isinstance(types, str) else types
    return any(_validator().is_type(value, t) for t in types)


@dataclass(frozen=True)
class _Problem:
    path: JsonPath
    rank: int  # orders problems on one line: unknown keys first
    message: str


def _explain(err: jsonschema.ValidationError, where: _Where) -> list[_Problem]:
    path: JsonPath = tuple(err.absolute_path)
    name = where.name(path)
    kind, value, schema = err.validator, err.instance, err.schema
    if kind in ("oneOf", "anyOf"):
        return _explain_alternatives(err, where)
    if kind == "additionalProperties":
        valid = ", ".join(sorted(schema.get("properties", {})))
        return [
            _Problem(path + (key,), 0, f"unknown key {key!r} in {name}; valid keys: {valid}")
            for key in value
            if key not in schema.get("properties", {})
        ]
    if kind == "required":
        # The `then` of "if no preset then required" in errorReply and errorBody.
        unless = (
            " (required unless 'preset' is given)" if "then" in err.relative_schema_path else ""
        )
        return [
            _Problem(path, 6, f"missing required key {key!r} in {name}{unless}")
            for key in err.validator_value
            if key not in value
        ]
    return [_Problem(path, 1 if kind == "type" else 3, f"{name}: {_reason(err)}")]


def _reason(err: jsonschema.ValidationError) -> str:
    kind, value, limit, schema = err.validator, err.instance, err.validator_value, err.schema
    if kind == "type":
        return f"expected {_type_names(schema)}, got {_describe(value)}"
    if kind == "enum":
        valid = ", ".join(_shown(v) for v in limit)
        if "title" in schema:
            return f"unknown {schema['title']} {_short(value)}; valid: {valid}"
        return f"{_short(value)} is not valid; valid: {valid}"
    if kind == "const":
        return f"must be {json.dumps(limit)}, got {json.dumps(value)}"
    if kind in ("minimum", "maximum"):
        return f"must be {'>=' if kind == 'minimum' else '<='} {limit}, got {value}"
    if kind == "minLength" and limit == 1:
        return "must not be empty"
    if kind == "minItems":
        return f"must have at least {limit} item(s)"
    if kind in ("minProperties", "maxProperties"):
        options = ", ".join(sorted(schema.get("properties", {})))
        got = ", ".join(sorted(value)) or "none"
        return f"give exactly one of: {options} (got: {got})"
    return str(err.message)


def _explain_alternatives(err: jsonschema.ValidationError, where: _Where) -> list[_Problem]:
    path: JsonPath = tuple(err.absolute_path)
    branches = [_resolve(b) for b in err.validator_value]
    if all(set(b) == {"required"} for b in branches):
        return [_response_kind_problem(path, err.instance, where)]
    fitting = [i for i, b in enumerate(branches) if _fits(b, err.instance)]
    if len(fitting) == 1:
        inner = [e for e in err.context or [] if e.relative_schema_path[0] == fitting[0]]
        return [p for e in inner for p in _explain(e, where)]
    expected = " or ".join(_type_names(b) for b in branches)
    return [
        _Problem(path, 1, f"{where.name(path)}: expected {expected}, got {_describe(err.instance)}")
    ]


def _response_kind_problem(path: JsonPath, scenario: Mapping[str, Any], where: _Where) -> _Problem:
    kinds = ", ".join(RESPONSE_KINDS)
    label = (
        f"scenario {scenario['name']!r}" if isinstance(scenario.get("name"), str) else "scenario"
    )
    present = [k for k in RESPONSE_KINDS if k in scenario]
    if not present:
        return _Problem(path, 5, f"{label} has no response; give exactly one of: {kinds}")
    both = " and ".join(repr(k) for k in present)
    return _Problem(
        path + (present[1],), 5, f"{label} has both {both}; give exactly one of: {kinds}"
    )


def _problems(data: Any, where: _Where) -> list[ScenarioError]:
    if not isinstance(data, dict):
        return [
            where.error(
                (),
                "expected a mapping (a scenario with 'name', or 'scenarios: [...]'), "
                f"got {_describe(data)}",
            )
        ]
    found = [p for err in _validator().iter_errors(data) for p in _explain(err, where)]
    found.sort(key=lambda p: (where.line(p.path) or 0, p.rank, p.message))
    unique = dict.fromkeys((p.path, p.message) for p in found)
    return [where.error(path, message) for path, message in unique]


# --- data → model ---------------------------------------------------------------------------


class _Builder:
    """Builds model objects from schema-valid data; semantic problems raise with file:line."""

    def __init__(self, where: _Where) -> None:
        self.w = where

    def scenarios(self, data: Mapping[str, Any]) -> list[Scenario]:
        if self.w.file_form:
            items = data["scenarios"]
            return [self.scenario(item, ("scenarios", i)) for i, item in enumerate(items)]
        return [self.scenario(data, ())]

    def scenario(self, d: Mapping[str, Any], path: JsonPath) -> Scenario:
        return Scenario(
            name=d["name"],
            steps=self.steps(d, path),
            match=self.match(d.get("match", {}), path + ("match",)),
            description=d.get("description", ""),
            priority=int(d.get("priority", 0)),
            after_sequence=d.get("after_sequence", "repeat_last"),
            strict=d.get("strict"),
            source=SourceRef(self.w.source, self.w.line(path)),
        )

    def steps(self, d: Mapping[str, Any], path: JsonPath) -> tuple[Response, ...]:
        if "sequence" in d:
            return tuple(
                self.response(kind, value, path + ("sequence", i, kind))
                for i, item in enumerate(d["sequence"])
                for kind, value in item.items()
            )
        kind = next(k for k in RESPONSE_KINDS if k in d)
        return (self.response(kind, d[kind], path + (kind,)),)

    def response(self, kind: str, value: Any, path: JsonPath) -> Response:
        if kind == "reply":
            return self.reply(value, path)
        if kind == "error":
            return self.error_reply(value, path)
        return self.fault(value, path)

    # --- match ---
    def match(self, d: Mapping[str, Any], path: JsonPath) -> Match:
        text = {
            key: self.text_matcher(d[key], path + (key,), "glob" if key == "model" else "equals")
            for key in ("model", "last_user_message", "system_message", "any_message", "api_key")
            if key in d
        }
        headers = tuple(
            (name.lower(), self.text_matcher(value, path + ("headers", name), "equals"))
            for name, value in d.get("headers", {}).items()
        )
        tools = d.get("tools")
        return Match(
            **text,
            stream=d.get("stream"),
            headers=headers,
            tools=tuple(tools) if tools is not None else None,
            tool_choice=d.get("tool_choice"),
            has_tool_result=d.get("has_tool_result"),
            response_format=d.get("response_format"),
            body=d.get("body"),
        )

    def text_matcher(self, value: Any, path: JsonPath, plain_op: str) -> TextMatcher:
        if not isinstance(value, dict):
            return TextMatcher(plain_op, str(value))
        op, operand = next(iter(value.items()))
        if op == "absent":
            return TextMatcher("absent")
        if op == "regex":
            self.check_regex(operand, path + ("regex",))
        return TextMatcher(op, operand)

    def check_regex(self, pattern: str, path: JsonPath) -> None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise self.w.error(path, f"{self.w.name(path)}: bad regex {pattern!r}: {exc}") from None

    def check_template(self, text: str, path: JsonPath) -> str:
        try:
            parse_template(text)
        except ValueError as exc:
            raise self.w.error(path, f"{self.w.name(path)}: bad template: {exc}") from None
        return text

    # --- reply ---
    def reply(self, d: Mapping[str, Any], path: JsonPath) -> Reply:
        choices = d.get("choices")
        beside = [k for k in CHOICE_KEYS if k in d]
        if choices is not None and beside:
            raise self.w.error(
                path + (beside[0],),
                f"{self.w.name(path)} has both 'choices' and {beside[0]!r}; "
                f"put {beside[0]!r} inside each item of 'choices'",
            )
        stream = d.get("stream")
        self.check_chunks(d, path)
        return Reply(
            choice=self.choice(d, path),
            choices=(
                tuple(self.choice(c, path + ("choices", i)) for i, c in enumerate(choices))
                if choices is not None
                else None
            ),
            model=d.get("model"),
            provider=d.get("provider"),
            usage=d.get("usage"),
            delay_ms=float(d.get("delay_ms", 0)),
            stream=self.stream(stream, path + ("stream",)) if stream is not None else None,
            system_fingerprint=d.get("system_fingerprint"),
        )

    def check_chunks(self, d: Mapping[str, Any], path: JsonPath) -> None:
        """`stream.chunks` beside a static `content` must spell that content exactly."""
        chunks = (d.get("stream") or {}).get("chunks")
        content = d.get("content")
        if chunks is None or not isinstance(content, str) or "{{" in content:
            return
        if "".join(chunks) != content:
            raise self.w.error(
                path + ("stream", "chunks"),
                f"{self.w.name(path + ('stream', 'chunks'))} join to {_short(''.join(chunks))}, "
                f"not to the reply's content {_short(content)}; give one of the two, or make "
                "them agree",
            )

    def choice(self, d: Mapping[str, Any], path: JsonPath) -> ChoiceSpec:
        texts = {k: self.check_template(d[k], path + (k,)) for k in TEMPLATE_KEYS if k in d}
        error = d.get("choice_error")
        return ChoiceSpec(
            **texts,
            tool_calls=tuple(
                ToolCallSpec(name=c["name"], arguments=c.get("arguments"), id=c.get("id"))
                for c in d.get("tool_calls", [])
            ),
            finish_reason=d.get("finish_reason"),
            native_finish_reason=d.get("native_finish_reason"),
            choice_error=self.error_body(error) if error is not None else None,
        )

    # --- errors and faults ---
    def error_reply(self, value: Any, path: JsonPath) -> ErrorReply:
        if isinstance(value, str):
            return error_preset(value)
        # Without a preset the schema requires status and message, so `base` only fills gaps.
        base = error_preset(value["preset"]) if "preset" in value else ErrorReply(0, "")
        headers = dict(base.headers)
        for name, header in value.get("headers", {}).items():
            headers[name] = self.header_value(header, path + ("headers", name))
        return ErrorReply(
            status=int(value.get("status", base.status)),
            message=value.get("message", base.message),
            metadata=value.get("metadata", base.metadata),
            headers=headers,
            delay_ms=float(value.get("delay_ms", 0)),
            preset=value.get("preset"),
        )

    def header_value(self, value: Any, path: JsonPath) -> str:
        if str(path[-1]).lower() in FRAMING_HEADERS:
            raise self.w.error(
                path,
                f"{self.w.name(path)}: the emulator sets {path[-1]} itself (it frames the "
                "response); use a fault or a stream framing fault to break framing on purpose",
            )
        text = str(value)
        if "\r" in text or "\n" in text:
            raise self.w.error(
                path, f"{self.w.name(path)}: header values may not contain line breaks"
            )
        return text

    def error_body(self, value: Any) -> ErrorBody:
        if isinstance(value, str):
            return error_body_preset(value)
        base = error_body_preset(value["preset"]) if "preset" in value else ErrorBody(0, "")
        return ErrorBody(
            code=int(value.get("code", base.code)),
            message=value.get("message", base.message),
            metadata=value.get("metadata", base.metadata),
        )

    def fault(self, value: Any, path: JsonPath) -> Fault:
        if isinstance(value, str):
            return Fault(value)
        kind = value["kind"]
        for key, owner in (("max_ms", "hang"), ("body", "malformed_json")):
            if key in value and kind != owner:
                raise self.w.error(
                    path + (key,),
                    f"{self.w.name(path + (key,))} only applies to kind {owner}, not {kind}",
                )
        return Fault(kind, max_ms=float(value.get("max_ms", 30000.0)), body=value.get("body"))

    # --- stream ---
    def stream(self, d: Mapping[str, Any], path: JsonPath) -> StreamSpec:
        keepalive = d.get("keepalive")
        self.check_keepalive(d, path)
        error = d.get("error")
        events = d.get("events")
        chunks = d.get("chunks")
        return StreamSpec(
            chunking=_chunking(d.get("chunking", "words")),
            chunks=tuple(chunks) if chunks is not None else None,
            ttft_ms=float(d.get("ttft_ms", 0)),
            interval=self.interval(d.get("interval_ms", 0), path + ("interval_ms",)),
            keepalive=KeepAlive(**_floats(keepalive, "every_ms"))
            if keepalive is not None
            else None,
            error_after=_int(d.get("error_after")),
            error=self.error_body(error) if error is not None else None,
            disconnect_after=_int(d.get("disconnect_after")),
            done=d.get("done", True),
            usage_chunk=d.get("usage_chunk"),
            events=tuple(self.event(e) for e in events) if events is not None else None,
            framing=self.framing(d.get("framing", {})),
        )

    def check_keepalive(self, d: Mapping[str, Any], path: JsonPath) -> None:
        """A keep-alive comment every few microseconds over a long ttft would compile to
        millions of events; refuse more than MAX_KEEPALIVES comments up front."""
        every = float((d.get("keepalive") or {}).get("every_ms", 0) or 0)
        ttft = float(d.get("ttft_ms", 0) or 0)
        if every > 0 and ttft / every > MAX_KEEPALIVES:
            where = path + ("keepalive", "every_ms")
            raise self.w.error(
                where,
                f"{self.w.name(where)}: {every:g} ms over a ttft_ms of {ttft:g} would send "
                f"{ttft / every:,.0f} comments; at most {MAX_KEEPALIVES:,} are allowed",
            )

    def framing(self, d: Mapping[str, Any]) -> Framing:
        return Framing(
            line_ending=d.get("line_ending", "\n"),
            split_every=_int(d.get("split_every")),
            stall_after=_int(d.get("stall_after")),
            stall_ms=float(d.get("stall_ms", 30000.0)),
            duplicate_done=d.get("duplicate_done", False),
        )

    def interval(self, value: Any, path: JsonPath) -> Interval:
        if isinstance(value, list):
            return Interval(per_chunk=tuple(float(v) for v in value))
        if not isinstance(value, dict):
            return Interval(ms=float(value))
        low, high = float(value["min"]), float(value["max"])
        if low > high:
            raise self.w.error(
                path,
                f"{self.w.name(path)}: min ({value['min']}) is greater than max ({value['max']})",
            )
        return Interval(min_ms=low, max_ms=high)

    def event(self, d: Mapping[str, Any]) -> StreamEvent:
        kind, value = next(iter(d.items()))
        if kind == "error":
            value = self.error_body(value)
        elif kind == "tool_call":
            value = {
                "index": int(value.get("index", 0)),
                "id": value.get("id"),
                "name": value.get("name"),
                "arguments": value.get("arguments"),
            }
        elif kind == "wait_ms":
            value = float(value)
        return StreamEvent(kind, value)


def _int(value: Any) -> int | None:
    # JSON Schema's "integer" also admits 3.0; the model wants a real int.
    return int(value) if value is not None else None


def _chunking(value: Any) -> Chunking:
    if isinstance(value, str):
        return Chunking(value)
    kind, size = next(iter(value.items()))
    return Chunking(kind, int(size))


def _floats(d: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: float(v) if k in keys else v for k, v in d.items()}


# --- public API -------------------------------------------------------------------------------


def _where(data: Any, source: str, lines: Lines) -> _Where:
    return _Where(source, lines, isinstance(data, dict) and "scenarios" in data)


def _from_data(data: Any, source: str, lines: Lines, everything: bool = False) -> list[Scenario]:
    """Validate and build; with `everything`, raise a `_Problems` of all schema problems."""
    where = _where(data, source, lines)
    problems = _problems(data, where)
    if problems:
        raise problems[0] if not everything else _Problems(problems)
    scenarios = _Builder(where).scenarios(data)
    check_unique(scenarios)
    return scenarios


class _Problems(Exception):
    def __init__(self, problems: list[ScenarioError]) -> None:
        super().__init__(str(problems[0]))
        self.problems = problems


def check_unique(scenarios: Iterable[Scenario], existing: Iterable[Scenario] = ()) -> None:
    """Raise a ScenarioError naming both places if a name repeats (in `scenarios` or `existing`)."""
    seen: dict[str, Scenario] = {s.name: s for s in existing}
    for scenario in scenarios:
        first = seen.get(scenario.name)
        if first is not None:
            raise ScenarioError(
                f"duplicate scenario name {scenario.name!r}: also defined at {first.source}",
                scenario.source.file,
                scenario.source.line,
            )
        seen[scenario.name] = scenario


def load_text(text: str, source: str = "<string>") -> list[Scenario]:
    """Scenarios from YAML (or JSON) text; `source` names it in error messages."""
    data, lines = _parse(text, source, json_mode=False)
    return _from_data(data, source, lines)


def load_data(data: Any, source: str = "<dict>") -> list[Scenario]:
    """Scenarios from Python data: one scenario dict, `{"scenarios": [...]}`, or a list of dicts."""
    data = copy.deepcopy(data)
    if isinstance(data, (list, tuple)):
        data = {"scenarios": list(data)}
    return _from_data(data, source, {})


def _read(path: Path) -> str:
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror or exc}", source) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"file too large ({len(raw)} bytes; limit {MAX_FILE_BYTES})", source)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text: {exc.reason} at byte {exc.start}", source) from None


def scenario_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """The files `paths` stand for: files as given, directories expanded in name order."""
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            yield from sorted(
                p
                for p in path.iterdir()
                if p.suffix in SUFFIXES and p.is_file() and not p.name.startswith(".")
            )
        elif path.exists():
            yield path
        else:
            raise ScenarioError("no such file or directory", str(path))


def _load_file(path: Path, everything: bool = False) -> list[Scenario]:
    source = str(path)
    data, lines = _parse(_read(path), source, json_mode=path.suffix == ".json")
    return _from_data(data, source, lines, everything)


def load_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Scenario]:
    """All scenarios of the given files and directories, in load order; any problem raises."""
    loaded: list[Scenario] = []
    for path in scenario_files(paths):
        scenarios = _load_file(path)
        check_unique(scenarios, loaded)
        loaded.extend(scenarios)
    return loaded


def check_paths(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Every problem found in the given files and directories, as `file:line: message` strings.

    All schema problems of a file are reported; a file that passes the schema reports at most
    its first semantic problem (bad regex, template, duplicate name ...).
    """
    problems: list[str] = []
    loaded: list[Scenario] = []
    for entry in paths:
        try:
            files_ = list(scenario_files([entry]))
        except ScenarioError as exc:
            problems.append(str(exc))
            continue
        for path in files_:
            try:
                scenarios = _load_file(path, everything=True)
                check_unique(scenarios, loaded)
            except _Problems as many:
                problems.extend(str(p) for p in many.problems)
            except ScenarioError as exc:
                problems.append(str(exc))
            else:
                loaded.extend(scenarios)
    return problems
