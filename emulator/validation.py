"""Request validation against the JSON Schemas in `schemas/`: a list of problems, each naming the
JSON path of the field at fault in words a person understands (spec schema ChatRequest).

Two engines share the same schema files. `emulator.fastschema` compiles them into Python closures
that only answer "valid or not"; it runs on every request and is ~50 times faster than
`jsonschema`, which would need milliseconds for an ordinary request. Only when that fast check
fails does `jsonschema` run, to find and describe every problem. Tests check that both agree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from itertools import islice
from typing import TYPE_CHECKING, Any

from .errors import RequestError
from .fastschema import FastCompiler

if TYPE_CHECKING:
    # jsonschema ships no type stubs, and types-jsonschema is not a dependency.
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
    from referencing import Registry

SCHEMA_BASE = "https://chat-emulator.dev/schemas/"
REQUEST_SCHEMA = "request.schema.json"
# The HTTP API's schemas (schemas/ also holds the scenario file schema, which is not one).
API_SCHEMA_FILES = (
    "request.schema.json",
    "message.schema.json",
    "content-part.schema.json",
    "tool.schema.json",
    "tool-call.schema.json",
    "tool-choice.schema.json",
    "response-format.schema.json",
    "provider.schema.json",
    "error.schema.json",
    "chat-completion.schema.json",
    "chat-completion-chunk.schema.json",
    "models-list.schema.json",
)

# Describing a problem costs far more than finding it (~1 ms each with jsonschema): at most
# this many are described, so an invalid 20 MiB body is answered at once, not in minutes.
MAX_PROBLEMS = 50

PathPart = str | int
Path = tuple[PathPart, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (`messages[2].content[0].image_url.url`, "" for the
    body itself) and what, e.g. "required" or "must be at most 2"."""

    path: str
    message: str


@dataclass(frozen=True)
class ValidationResult:
    """Every problem found, in document order, and the unknown top-level keys that were ignored."""

    problems: tuple[Problem, ...]
    ignored: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def load_schemas(names: Iterable[str] = API_SCHEMA_FILES) -> dict[str, dict[str, Any]]:
    """The named schema files shipped in `emulator.schemas`, by file name."""
    folder = files("emulator.schemas")
    return {name: json.loads(folder.joinpath(name).read_text(encoding="utf-8")) for name in names}


def schema_registry(schemas: Mapping[str, Mapping[str, Any]]) -> Registry[Any]:
    """A registry resolving each schema's `$id`, so relative `$ref`s between files work (for
    jsonschema; imported on first use, like jsonschema itself)."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = [
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema in schemas.values()
    ]
    return Registry().with_resources(resources)


class RequestValidator:
    """Compiles the request schema once; `validate` is then cheap enough to call per request."""

    def __init__(self, *, fast: bool = True) -> None:
        # `fast=False` skips the compiled check; tests use it to compare the two engines.
        schemas = load_schemas()
        root = schemas[REQUEST_SCHEMA]
        self.known_keys: frozenset[str] = frozenset(root["properties"])
        self._root, self._schemas = root, schemas
        self._full: Draft202012Validator | None = None  # made when a body first fails
        self._is_valid: Callable[[object], bool] | None = None
        if fast:
            documents = {schema["$id"]: schema for schema in schemas.values()}
            self._is_valid = FastCompiler(documents).compile_uri(SCHEMA_BASE + REQUEST_SCHEMA)

    def validate(self, body: object, *, strict: bool = False) -> ValidationResult:
        """Check `body` (the parsed JSON); in strict mode unknown top-level keys are problems.

        At most MAX_PROBLEMS problems are described; when there are more, a last problem at
        path "" says so."""
        unknown = self._unknown_keys(body)
        problems: list[tuple[Path, str]] = []
        more = False
        if self._is_valid is None or not self._is_valid(body):
            errors = self._validator().iter_errors(body)
            described = _describe_errors(islice(errors, MAX_PROBLEMS))
            problems.extend(islice(described, MAX_PROBLEMS))
            more = next(described, None) is not None or next(errors, None) is not None
        if not problems:  # the cross-field rules assume a body the schema accepts
            problems.extend(_tool_choice_problems(body))
            problems.extend(_reasoning_effort_problems(body))
        if strict:
            room = max(0, MAX_PROBLEMS - len(problems))
            problems.extend(((key,), self._unknown_message(key)) for key in unknown[:room])
            more = more or len(unknown) > room
        ordered = _in_document_order(problems, body)
        listed = [Problem(format_path(path), message) for path, message in ordered]
        if more:
            listed.append(Problem("", f"more problems not listed (only the first {MAX_PROBLEMS})"))
        return ValidationResult(problems=tuple(listed), ignored=() if strict else unknown)

    def prepare(self) -> None:
        """Build jsonschema's validator now (a server's background warm-up), not on the first
        invalid body."""
        self._validator()

    def _validator(self) -> Draft202012Validator:
        """jsonschema's validator, which describes the problems; imported and built on first
        use (most runs send valid bodies, and importing jsonschema is a measurable part of
        start-up). Two threads racing here build two equal validators: harmless."""
        if self._full is None:
            from jsonschema import Draft202012Validator

            registry = schema_registry(self._schemas)
            self._full = Draft202012Validator(self._root, registry=registry)
        return self._full

    def _unknown_keys(self, body: object) -> tuple[str, ...]:
        if not isinstance(body, dict):
            return ()
        return tuple(sorted(key for key in body if key not in self.known_keys))

    def _unknown_message(self, key: str) -> str:
        return "unknown parameter (strict mode)" + _did_you_mean(key, self.known_keys)


def _tool_choice_problems(body: object) -> Iterator[tuple[Path, str]]:
    """What no schema can say: a named tool_choice must be one of the offered function tools
    (OpenAI answers a 400; `required` without tools is the schema's own rule). A server tool
    choice such as {"type": "openrouter:web_search"} names no function and is not checked."""
    if not isinstance(body, dict) or "tool_choice" not in body:
        return
    choice = body["tool_choice"]
    if not isinstance(choice, dict) or choice.get("type") != "function":
        return
    tools = body.get("tools") or []
    names = [t["function"]["name"] for t in tools if t.get("type") == "function"]
    name = choice["function"]["name"]
    if name not in names:
        offered = ", ".join(names) if names else "none"
        yield (
            ("tool_choice", "function", "name"),
            (f"names {name!r}, which is not among the offered tools ({offered})"),
        )


def _reasoning_effort_problems(body: object) -> Iterator[tuple[Path, str]]:
    """`reasoning_effort` is shorthand for `reasoning.effort`: the two may not differ (spec
    schema ChatRequest, "cannot be used simultaneously with reasoning.effort if they differ")."""
    if not isinstance(body, dict):
        return
    shorthand, reasoning = body.get("reasoning_effort"), body.get("reasoning")
    effort = reasoning.get("effort") if isinstance(reasoning, dict) else None
    if shorthand is not None and effort is not None and shorthand != effort:
        yield (
            ("reasoning_effort",),
            f"must equal reasoning.effort ({effort!r}) when both are given, not {shorthand!r}",
        )


def error_for(result: ValidationResult) -> RequestError:
    """The 400 for an invalid request: the first problem as message, all of them in metadata."""
    if not result.problems:
        raise ValueError("error_for() needs a result with at least one problem")
    first = result.problems[0]
    message = f"{first.path}: {first.message}" if first.path else first.message
    errors = [{"path": p.path, "message": p.message} for p in result.problems]
    return RequestError(400, message, {"errors": errors})


# --- paths and ordering ----------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_path(path: Iterable[PathPart]) -> str:
    """`("messages", 2, "content")` -> `messages[2].content`; odd keys are quoted: `a["b c"]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def _position(
    path: Path, body: object, orders: dict[int, dict[str, int]]
) -> tuple[tuple[int, str], ...]:
    """A sort key following the body's own order; a missing key sorts first within its parent,
    since a missing required field is a problem of the parent as a whole. `orders` caches
    each object's key positions (by id), so many problems in one object cost linear time."""
    key: list[tuple[int, str]] = []
    node = body
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            order = orders.get(id(node))
            if order is None:
                order = orders[id(node)] = {name: i for i, name in enumerate(node)}
            index = order.get(part, -1)
            key.append((index, part if index < 0 else ""))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            key.append((part, ""))
            node = node[part] if 0 <= part < len(node) else None
        else:
            key.append((-1, str(part)))
            node = None
    return tuple(key)


def _in_document_order(problems: list[tuple[Path, str]], body: object) -> list[tuple[Path, str]]:
    unique = list(dict.fromkeys(problems))  # the same problem can be reached twice via $refs
    orders: dict[int, dict[str, int]] = {}
    return sorted(unique, key=lambda problem: _position(problem[0], body, orders))


# --- jsonschema errors -> problems ----------------------------------------------------------

_TYPE_WORDS = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _describe_errors(errors: Iterable[ValidationError]) -> Iterator[tuple[Path, str]]:
    errors = list(errors)
    # A value of the wrong type also fails its schema's enum or const; one problem is enough.
    mistyped = {(id(e.schema), tuple(e.absolute_path)) for e in errors if e.validator == "type"}
    for error in errors:
        key = (id(error.schema), tuple(error.absolute_path))
        if error.validator in ("enum", "const") and key in mistyped:
            continue
        yield from _describe_error(error)


def _describe_error(error: ValidationError) -> Iterator[tuple[Path, str]]:
    path: Path = tuple(error.absolute_path)
    if error.validator in ("anyOf", "oneOf"):
        yield from _describe_alternatives(error, path)
        return
    custom = _custom_message(error)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        for name in error.validator_value:
            if name not in instance:
                yield path + (name,), custom or "required"
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        for name in instance:
            if name not in allowed:
                yield path + (name,), _unknown_field_message(name, allowed)
    else:
        yield path, custom or _keyword_message(str(error.validator), error.validator_value)


def _custom_message(error: ValidationError) -> str | None:
    """The schema's own wording for this keyword (`x-message: {keyword: text}`), if it has one."""
    if not isinstance(error.schema, dict):
        return None
    message = error.schema.get("x-message", {}).get(error.validator)
    return message if isinstance(message, str) else None


def _describe_alternatives(error: ValidationError, path: Path) -> Iterator[tuple[Path, str]]:
    """anyOf here means "X or null": report the errors of the one alternative whose type fits
    the value, or, if none fits, the types that would have."""
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        by_branch.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    fitting: list[list[ValidationError]] = []
    wanted: list[list[str]] = []
    for subs in by_branch.values():
        type_errors = [s for s in subs if s.validator == "type" and not s.relative_path]
        wanted.extend(_as_list(e.validator_value) for e in type_errors)
        if not type_errors:
            fitting.append(subs)
    if len(fitting) == 1:
        yield from _describe_errors(fitting[0])
    elif not fitting and wanted:
        yield path, _type_message([t for types in wanted for t in types])
    else:
        yield path, "does not match any of the allowed forms"


def _as_list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _type_message(types: Sequence[str]) -> str:
    words = [_TYPE_WORDS.get(t, t) for t in dict.fromkeys(types)]
    if "a number" in words and "an integer" in words:
        words.remove("an integer")
    if len(words) == 1:
        return "must be " + words[0]
    return "must be " + ", ".join(words[:-1]) + " or " + words[-1]


def _show(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _keyword_message(keyword: str, value: Any) -> str:
    if keyword == "type":
        return _type_message(_as_list(value))
    if keyword == "enum":
        return "must be one of: " + ", ".join(_show(v) for v in value)
    if keyword == "const":
        return f"must be {json.dumps(value)}"
    simple = {
        "minimum": f"must be at least {_number(value)}",
        "maximum": f"must be at most {_number(value)}",
        "exclusiveMinimum": f"must be greater than {_number(value)}",
        "exclusiveMaximum": f"must be less than {_number(value)}",
        "minItems": "must not be empty"
        if value == 1
        else f"must have at least {_count(value, 'item')}",
        "maxItems": f"must have at most {_count(value, 'item')}",
        "minLength": "must not be empty"
        if value == 1
        else f"must be at least {value} characters long",
        "maxLength": f"must be at most {_count(value, 'character')} long",
        "pattern": f"must match the pattern {value}",
        "not": "is not allowed here",
    }
    return simple.get(keyword, f"fails the {keyword!r} rule")


def _unknown_field_message(name: str, allowed: Iterable[str]) -> str:
    hint = _did_you_mean(name, allowed)
    return "unknown field" + (hint or " (allowed: " + ", ".join(sorted(allowed)) + ")")


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    import difflib  # on first use: only an unknown key is worded with it

    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
