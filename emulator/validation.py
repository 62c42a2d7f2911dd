"""Request validation against the JSON Schemas in `schemas/`: a list of problems, each naming the
JSON path of the field at fault in words a person understands (PROTOCOL §2, decision D11).

Two engines share the same schema files. A small compiler turns them into Python closures that
only answer "valid or not"; it runs on every request and is ~50 times faster than `jsonschema`,
which would need milliseconds for an ordinary request. Only when that fast check fails does
`jsonschema` run, to find and describe every problem. Tests check that both engines agree.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING, Any

# jsonschema ships no type stubs, and types-jsonschema is not a dependency.
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .errors import RequestError

if TYPE_CHECKING:
    from referencing._core import Resolver

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
    """A registry resolving each schema's `$id`, so relative `$ref`s between files work."""
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
        registry = schema_registry(schemas)
        root = schemas[REQUEST_SCHEMA]
        self.known_keys: frozenset[str] = frozenset(root["properties"])
        self._validator = Draft202012Validator(root, registry=registry)
        self._is_valid: Callable[[object], bool] | None = None
        if fast:
            self._is_valid = _FastCompiler(registry).compile_uri(SCHEMA_BASE + REQUEST_SCHEMA)

    def validate(self, body: object, *, strict: bool = False) -> ValidationResult:
        """Check `body` (the parsed JSON); in strict mode unknown top-level keys are problems."""
        unknown = self._unknown_keys(body)
        problems: list[tuple[Path, str]] = []
        if self._is_valid is None or not self._is_valid(body):
            problems.extend(self._schema_problems(body))
        if strict:
            problems.extend(((key,), self._unknown_message(key)) for key in unknown)
        ordered = _in_document_order(problems, body)
        return ValidationResult(
            problems=tuple(Problem(format_path(path), message) for path, message in ordered),
            ignored=() if strict else unknown,
        )

    def _unknown_keys(self, body: object) -> tuple[str, ...]:
        if not isinstance(body, dict):
            return ()
        return tuple(sorted(key for key in body if key not in self.known_keys))

    def _unknown_message(self, key: str) -> str:
        return "unknown parameter (strict mode)" + _did_you_mean(key, self.known_keys)

    def _schema_problems(self, body: object) -> Iterator[tuple[Path, str]]:
        return _describe_errors(self._validator.iter_errors(body))


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


def _position(path: Path, body: object) -> tuple[tuple[int, str], ...]:
    """A sort key following the body's own order; a missing key sorts first within its parent,
    since a missing required field is a problem of the parent as a whole."""
    key: list[tuple[int, str]] = []
    node = body
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            index = list(node).index(part) if part in node else -1
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
    return sorted(unique, key=lambda problem: _position(problem[0], body))


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
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# --- the fast path: schema -> closure answering "valid?" ------------------------------------

Check = Callable[[Any], bool]

# Keywords that never affect validity.
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$defs",
        "$comment",
        "title",
        "description",
        "x-message",
        "examples",
        "default",
    }
)
_HANDLED = frozenset(
    {
        "$ref", "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems", "items",
        "required", "properties", "additionalProperties", "allOf", "anyOf", "not", "if", "then",
        "else",
    }
)  # fmt: skip


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    # JSON Schema counts 1.0 as an integer, and never a boolean.
    if isinstance(value, int):
        return not isinstance(value, bool)
    return isinstance(value, float) and value.is_integer()


_TYPE_CHECKS: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": _is_integer,
    "number": _is_number,
}


def _json_equal(a: object, b: object) -> bool:
    """Equality as JSON Schema sees it: true is not 1, and 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if a != b:
        return False
    return type(a) is type(b) or (_is_number(a) and _is_number(b))


@dataclass
class _Plan:
    """The checks of one schema, grouped by the JSON type they apply to, so each value pays
    for one type test instead of one per keyword."""

    type_ok: Check | None = None
    objects: list[Check] = field(default_factory=list)
    arrays: list[Check] = field(default_factory=list)
    strings: list[Check] = field(default_factory=list)
    numbers: list[Check] = field(default_factory=list)
    any_type: list[Check] = field(default_factory=list)


class _FastCompiler:
    """Compiles the keyword subset our schemas use into nested closures; any other keyword
    raises at start-up, so the fast path can never silently ignore a rule."""

    def __init__(self, registry: Registry[Any]) -> None:
        self._registry = registry
        self._cache: dict[int, Check] = {}

    def compile_uri(self, uri: str) -> Check:
        resolved = self._registry.resolver().lookup(uri)
        return self._compile(resolved.contents, resolved.resolver)

    def _compile(self, schema: Any, resolver: Resolver[Any]) -> Check:
        if schema is True or schema == {}:
            return _always
        if schema is False:
            return _never
        cached = self._cache.get(id(schema))
        if cached is not None:
            return cached
        cell: list[Check] = []  # a forward reference, so recursive $refs terminate
        self._cache[id(schema)] = lambda v: cell[0](v)
        cell.append(_plan_check(self._plan(schema, resolver)))
        self._cache[id(schema)] = cell[0]
        return cell[0]

    def _plan(self, schema: dict[str, Any], resolver: Resolver[Any]) -> _Plan:
        unknown = set(schema) - _ANNOTATIONS - _HANDLED
        if unknown:
            raise ValueError(f"the fast validator does not support keywords {sorted(unknown)}")
        plan = _Plan()
        if "type" in schema:
            plan.type_ok = _type_check(schema["type"])
        plan.numbers.extend(_number_checks(schema))
        plan.strings.extend(_string_checks(schema))
        plan.arrays.extend(self._array_checks(schema, resolver))
        plan.objects.extend(self._object_checks(schema, resolver))
        plan.any_type.extend(self._generic_checks(schema, resolver))
        return plan

    def _ref(self, ref: str, resolver: Resolver[Any]) -> Check:
        resolved = resolver.lookup(ref)
        return self._compile(resolved.contents, resolved.resolver)

    def _array_checks(self, schema: dict[str, Any], resolver: Resolver[Any]) -> Iterator[Check]:
        low, high = schema.get("minItems"), schema.get("maxItems")
        if low is not None:
            yield lambda v: len(v) >= low
        if high is not None:
            yield lambda v: len(v) <= high
        if "items" in schema:
            yield _each(self._compile(schema["items"], resolver))

    def _object_checks(self, schema: dict[str, Any], resolver: Resolver[Any]) -> Iterator[Check]:
        required = tuple(schema.get("required", ()))
        if required:
            yield _required_check(required)
        props = {k: self._compile(s, resolver) for k, s in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties")
        if props or extra is not None:
            yield _properties_check(
                props, None if extra is None else self._compile(extra, resolver)
            )
        dispatch = _discriminator(schema.get("allOf"))
        if dispatch is not None:
            key, table = dispatch
            compiled = {value: self._compile(then, resolver) for value, then in table.items()}
            yield _dispatch_check(key, compiled)

    def _generic_checks(self, schema: dict[str, Any], resolver: Resolver[Any]) -> Iterator[Check]:
        if "$ref" in schema:
            yield self._ref(schema["$ref"], resolver)
        if "enum" in schema:
            yield _enum_check(schema["enum"])
        if "const" in schema:
            yield _const_check(schema["const"])
        if "allOf" in schema and _discriminator(schema["allOf"]) is None:
            yield _all_of([self._compile(s, resolver) for s in schema["allOf"]])
        if "anyOf" in schema:
            options = tuple(self._compile(s, resolver) for s in schema["anyOf"])
            yield lambda v: any(option(v) for option in options)
        if "not" in schema:
            negated = self._compile(schema["not"], resolver)
            yield lambda v: not negated(v)
        if "if" in schema:
            condition = self._compile(schema["if"], resolver)
            then = self._compile(schema.get("then", True), resolver)
            otherwise = self._compile(schema.get("else", True), resolver)
            yield lambda v: then(v) if condition(v) else otherwise(v)


def _discriminator(all_of: Any) -> tuple[str, dict[str, Any]] | None:
    """Recognise the dispatch idiom of our schemas, an allOf of
    `{"if": {"type": "object", "required": [K], "properties": {K: {"const": C}}}, "then": S}`
    with one K, so that it runs as a dict lookup instead of one `if` per alternative."""
    if not isinstance(all_of, list) or not all_of:
        return None
    key: str | None = None
    table: dict[str, Any] = {}
    for item in all_of:
        if not isinstance(item, dict) or set(item) != {"if", "then"}:
            return None
        condition = item["if"]
        if not isinstance(condition, dict):
            return None
        if set(condition) != {"type", "required", "properties"} or condition["type"] != "object":
            return None
        (name,) = condition["required"] if len(condition["required"]) == 1 else (None,)
        const = condition["properties"].get(name, {}) if name else {}
        if set(condition["properties"]) != {name} or set(const) != {"const"}:
            return None
        if not isinstance(const["const"], str) or key not in (None, name):
            return None
        key = name
        table[const["const"]] = item["then"]
    return (key, table) if key is not None else None


def _plan_check(plan: _Plan) -> Check:
    type_ok = plan.type_ok
    objects, arrays = tuple(plan.objects), tuple(plan.arrays)
    strings, numbers, any_type = tuple(plan.strings), tuple(plan.numbers), tuple(plan.any_type)
    # Most schemas are a bare type or a const: skip the dispatch below for them.
    if not (objects or arrays or strings or numbers):
        if not any_type:
            return type_ok or _always
        if type_ok is None and len(any_type) == 1:
            return any_type[0]

    def check(value: Any) -> bool:
        if type_ok is not None and not type_ok(value):
            return False
        if isinstance(value, dict):
            group = objects
        elif isinstance(value, str):
            group = strings
        elif isinstance(value, list):
            group = arrays
        elif _is_number(value):
            group = numbers
        else:
            group = ()
        for rule in group:
            if not rule(value):
                return False
        for rule in any_type:
            if not rule(value):
                return False
        return True

    return check


def _each(item: Check) -> Check:
    def check(value: list[Any]) -> bool:
        for element in value:
            if not item(element):
                return False
        return True

    return check


def _all_of(checks: list[Check]) -> Check:
    frozen = tuple(checks)

    def check(value: Any) -> bool:
        for rule in frozen:
            if not rule(value):
                return False
        return True

    return check


_CLASSES: dict[str, type] = {"object": dict, "array": list, "string": str, "null": type(None)}


def _type_check(types: str | list[str]) -> Check:
    names = [types] if isinstance(types, str) else types
    if "integer" in names or "number" in names or "boolean" in names:
        checkers = tuple(_TYPE_CHECKS[name] for name in names)
        return lambda v: any(check(v) for check in checkers)
    # Without numbers and booleans in play, one isinstance against a tuple is exact.
    classes: tuple[type, ...] = tuple(_CLASSES[name] for name in names)
    return lambda v: isinstance(v, classes)


def _enum_check(values: list[Any]) -> Check:
    if all(isinstance(x, str) or x is None for x in values):
        allowed = frozenset(values)  # the common case: one set lookup
        return lambda v: (v is None or isinstance(v, str)) and v in allowed
    return lambda v: any(_json_equal(v, x) for x in values)


def _number_checks(schema: dict[str, Any]) -> Iterator[Check]:
    if "minimum" in schema:
        low = schema["minimum"]
        yield lambda v: v >= low
    if "maximum" in schema:
        high = schema["maximum"]
        yield lambda v: v <= high
    if "exclusiveMinimum" in schema:
        above = schema["exclusiveMinimum"]
        yield lambda v: v > above
    if "exclusiveMaximum" in schema:
        below = schema["exclusiveMaximum"]
        yield lambda v: v < below


def _string_checks(schema: dict[str, Any]) -> Iterator[Check]:
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low is not None:
        yield lambda v: len(v) >= low
    if high is not None:
        yield lambda v: len(v) <= high
    if "pattern" in schema:
        search = re.compile(schema["pattern"]).search
        yield lambda v: search(v) is not None


def _properties_check(props: dict[str, Check], extra: Check | None) -> Check:
    def check(value: dict[str, Any]) -> bool:
        for key, item in value.items():
            known = props.get(key)
            if known is not None:
                if not known(item):
                    return False
            elif extra is not None and not extra(item):
                return False
        return True

    return check


def _dispatch_check(key: str, table: dict[str, Check]) -> Check:
    def check(value: dict[str, Any]) -> bool:
        tag = value.get(key)
        rule = table.get(tag) if isinstance(tag, str) else None
        return rule is None or rule(value)

    return check


def _required_check(names: tuple[str, ...]) -> Check:
    def check(value: dict[str, Any]) -> bool:
        for name in names:
            if name not in value:
                return False
        return True

    return check


def _const_check(expected: Any) -> Check:
    if isinstance(expected, str):
        return lambda v: isinstance(v, str) and v == expected
    return lambda v: _json_equal(v, expected)
