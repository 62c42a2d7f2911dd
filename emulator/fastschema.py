"""The fast path of request validation: JSON Schemas compiled into nested Python closures that
only answer "valid or not". It covers exactly the keywords our schema files use (any other
raises at start-up, so no rule is silently skipped) and runs ~50 times faster than `jsonschema`;
`emulator.validation` calls `jsonschema` only when this check fails, to describe the problems;
the scenario loader (`emulator.loader.explain`) does the same for scenario files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin

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
        "contentEncoding",  # an annotation in draft 2020-12: jsonschema does not assert it
    }
)
_HANDLED = frozenset(
    {
        "$ref", "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems", "items",
        "required", "properties", "additionalProperties", "allOf", "anyOf", "not", "if", "then",
        "else", "oneOf", "minProperties", "maxProperties",
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
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=False))
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


class Resolver:
    """Resolves the `$ref`s of a set of schema documents, each known by its top-level `$id`:
    a reference is read relative to the document it appears in (RFC 3986), and its fragment,
    if any, is a JSON Pointer (RFC 6901) into the target document. That is all our schema
    files use; an anchor fragment or an unknown document raises ValueError at start-up.

    Our own, not `referencing`'s registry: importing `referencing` (with `attrs`) was about a
    tenth of the server's start-up, and the fast path needs only this. `jsonschema`, which
    describes the problems once a check fails, keeps using `referencing`."""

    def __init__(self, documents: Mapping[str, Any], base: str = "") -> None:
        self._documents = documents
        self.base = base

    def lookup(self, ref: str) -> tuple[Any, Resolver]:
        """(the schema `ref` points at, the resolver for references inside it)."""
        uri, _, fragment = urljoin(self.base, ref).partition("#")
        if uri not in self._documents:
            raise ValueError(f"$ref {ref!r}: no schema document {uri!r}")
        target = self._documents[uri]
        if fragment and not fragment.startswith("/"):
            raise ValueError(f"$ref {ref!r}: only JSON Pointer fragments are supported")
        for token in fragment.split("/")[1:]:
            key = unquote(token).replace("~1", "/").replace("~0", "~")
            try:
                target = target[int(key)] if isinstance(target, list) else target[key]
            except (KeyError, IndexError, ValueError):
                raise ValueError(f"$ref {ref!r}: nothing at {fragment!r}") from None
        return target, Resolver(self._documents, uri)


class FastCompiler:
    """Compiles the keyword subset our schemas use into nested closures; any other keyword
    raises at start-up, so the fast path can never silently ignore a rule.

    `documents`: every schema a `$ref` may reach, by its `$id` (see `Resolver`)."""

    def __init__(self, documents: Mapping[str, Any]) -> None:
        self._documents = documents
        self._cache: dict[int, Check] = {}

    def compile_uri(self, uri: str) -> Check:
        """The check of the schema at `uri` (a document's `$id`, with an optional fragment);
        ValueError for a keyword or a reference the compiler does not support."""
        contents, resolver = Resolver(self._documents).lookup(uri)
        return self._compile(contents, resolver)

    def _compile(self, schema: Any, resolver: Resolver) -> Check:
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

    def _plan(self, schema: dict[str, Any], resolver: Resolver) -> _Plan:
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

    def _ref(self, ref: str, resolver: Resolver) -> Check:
        contents, inner = resolver.lookup(ref)
        return self._compile(contents, inner)

    def _array_checks(self, schema: dict[str, Any], resolver: Resolver) -> Iterator[Check]:
        low, high = schema.get("minItems"), schema.get("maxItems")
        if low is not None:
            yield lambda v: len(v) >= low
        if high is not None:
            yield lambda v: len(v) <= high
        if "items" in schema:
            yield _each(self._compile(schema["items"], resolver))

    def _object_checks(self, schema: dict[str, Any], resolver: Resolver) -> Iterator[Check]:
        low, high = schema.get("minProperties"), schema.get("maxProperties")
        if low is not None:
            yield lambda v: len(v) >= low
        if high is not None:
            yield lambda v: len(v) <= high
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

    def _generic_checks(self, schema: dict[str, Any], resolver: Resolver) -> Iterator[Check]:
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
        if "oneOf" in schema:
            yield _one_of(tuple(self._compile(s, resolver) for s in schema["oneOf"]))
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
    # Plain loops, not all(<generator>): these closures run tens of times per request, and a
    # generator per call was a third of the validation time.
    def check(value: list[Any]) -> bool:
        for element in value:
            if not item(element):
                return False
        return True

    return check


def _one_of(options: tuple[Check, ...]) -> Check:
    def check(value: Any) -> bool:
        matched = 0
        for option in options:
            if option(value):
                matched += 1
                if matched > 1:
                    return False
        return matched == 1

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
