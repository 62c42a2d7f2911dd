"""JSON values that satisfy a JSON Schema: structured output and tool-call arguments.

`generate_json(schema, rng, faker)` walks the schema (draft 2020-12 semantics; draft-07
`definitions` work too, being plain JSON pointers) and builds a value from `rng` and `faker`
only (never the global random module or the clock), so the same schema and equally seeded
`rng` and `faker` give the same value on every run and machine (for one Faker version).
Every value is checked against the whole schema with jsonschema (with format checking for the
formats generated here) before it is returned; a schema that cannot be satisfied, or that uses a
keyword this module does not implement, raises `GenerationError` naming the path inside the
schema and the keyword. Nothing invalid is ever returned.

Policies, chosen so that test output is predictable and shows every field:
- Objects contain every property of `properties`, required or not, in schema order. Only
  `maxProperties` drops optional ones (from the end), and below the recursion bound (a `$ref`
  already twice on the stack) only required properties are generated. Names outside
  `properties` are added only when `required` lists them or `minProperties` needs them.
- A type list or `anyOf`/`oneOf` tries its members in order, "null" last (first below the
  recursion bound, where the smallest value is wanted); the first that yields a value wins.
- Unconstrained strings follow the property name (name, email, city, date, id, url...).
- `pattern` is written from Python's own parse of the regex (classes, groups, alternation,
  repeats, backreferences; no lookaround), then checked with re.search like jsonschema does.
- `format`s other than those in `_FORMATS` are annotations (as jsonschema treats them) and ignored.

One call has a budget (`_Budget`): at most `_MAX_CHARS` characters (strings, keys, numbers, counted
as they are written, discarded attempts included) and `_MAX_STEPS` steps of work (subschemas
visited, regex repeats, retries, enum options checked). Arrays, objects and strings first compare
a lower bound of what they need with what is left (so obviously huge schemas fail at once), and
arrays draw fewer optional items rather than overrun it. Past the budget, GenerationError names the
path; the single event loop serving requests is never held for long.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import math
import random
import re
import string
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Any, NamedTuple
from urllib.parse import unquote

from faker import Faker
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]
from jsonschema.protocols import Validator  # type: ignore[import-untyped]
from referencing.exceptions import Unresolvable

from emulator.errors import GenerationError

# The stdlib regex parser, to write strings matching `pattern`. It is private, but stable since
# Python 3.0 (hypothesis uses it too); `sre_parse`, its old name, warns from 3.11 on.
_sre: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

_RETRIES = 24
_MAX_REF_REPEATS = 2  # times one $ref target may be on the stack before values turn minimal
_MAX_REF_STACK = 32  # nested $refs before a recursion is declared endless
_MAX_STEPS = 200_000  # steps of work per call: about 10 microseconds each (see _Budget)
_COMPOSED = frozenset(["$ref", "allOf", "anyOf", "oneOf"])
_CHECK_COST = 5  # steps per jsonschema check of a candidate value (plus one per value)
_MAX_CHARS = 1_000_000  # characters of output per call (strings, keys, numbers), attempts included
_MAX_LENGTH = 100_000
_MAX_ITEMS = 10_000
_VALIDATOR_CACHE = 256

# Assertion keywords of draft 2020-12 this module does not implement.
_UNSUPPORTED = (
    "patternProperties",
    "propertyNames",
    "dependentSchemas",
    "dependentRequired",
    "if",
    "then",
    "else",
    "not",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedProperties",
    "unevaluatedItems",
    "$dynamicRef",
    "$recursiveRef",
)
# Keywords that assert nothing about an instance.
_ANNOTATIONS = frozenset(
    [
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "$schema",
        "$id",
        "$anchor",
        "$dynamicAnchor",
        "$vocabulary",
        "$defs",
        "definitions",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
    ]
)
_TYPE_HINTS = (
    (
        "object",
        ("properties", "required", "additionalProperties", "minProperties", "maxProperties"),
    ),
    ("array", ("items", "prefixItems", "minItems", "maxItems", "uniqueItems")),
    ("string", ("minLength", "maxLength", "pattern", "format")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)


# --------------------------------------------------------------------------- public API


def generate_json(schema: Mapping[str, Any] | bool, rng: random.Random, faker: Faker) -> Any:
    """A value valid against `schema`, or GenerationError naming the schema path and keyword."""
    validator = _validator(schema)
    value = _Gen(schema, rng, faker, validator).value(schema, "#", None)
    _verify(validator, value)
    return value


_OBJECT_FIELDS = (
    ("id", "string"),
    ("name", "string"),
    ("email", "string"),
    ("age", "integer"),
    ("city", "string"),
    ("country", "string"),
    ("company", "string"),
    ("score", "number"),
    ("active", "boolean"),
    ("description", "string"),
)


def generate_object(rng: random.Random, faker: Faker) -> dict[str, Any]:
    """A small plausible object for response_format json_object: 2-4 keys with faker values."""
    picked = sorted(rng.sample(range(len(_OBJECT_FIELDS)), rng.randint(2, 4)))
    gen = _Gen(True, rng, faker, _compiled("true"))
    fields = [_OBJECT_FIELDS[i] for i in picked]
    return {name: gen.value({"type": kind}, f"#/properties/{name}", name) for name, kind in fields}


# --------------------------------------------------------------------------- validation


def _is_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    match = re.fullmatch(r"(\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):(\d\d))", value)
    if match is None:
        return False
    hour, minute, second, off_h, off_m = (int(g or 0) for g in match.groups())
    return hour < 24 and minute < 60 and second <= 60 and off_h < 24 and off_m < 60


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    is_date = Draft202012Validator.FORMAT_CHECKER.conforms(value[:10], "date")
    return is_date and value[10:11] in ("T", "t") and _is_time(value[11:])


def _is_uri(value: object) -> bool:
    pattern = r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*"
    return not isinstance(value, str) or re.fullmatch(pattern, value) is not None


def _is_hostname(value: object) -> bool:
    if not isinstance(value, str):
        return True
    label = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
    name = value.removesuffix(".")
    return 0 < len(name) <= 253 and all(label.fullmatch(part) for part in name.split("."))


def _format_checker() -> FormatChecker:
    """Checks for exactly the formats generated here; jsonschema's own where it has one.

    jsonschema checks date-time, time, uri and hostname only with optional packages, so
    those get strict local checks instead of silently passing anything.
    """
    checker = FormatChecker(formats=())
    builtin = Draft202012Validator.FORMAT_CHECKER.checkers
    for name in ("date", "email", "idn-email", "ipv4", "ipv6", "uuid", "idn-hostname"):
        if name in builtin:
            checker.checkers[name] = builtin[name]
    local: dict[str, Callable[[object], bool]] = {
        "date-time": _is_date_time,
        "time": _is_time,
        "uri": _is_uri,
        "url": _is_uri,
        "hostname": _is_hostname,
    }
    for name, check in local.items():
        checker.checks(name)(check)
    if "idn-hostname" not in checker.checkers:
        checker.checks("idn-hostname")(_is_hostname)
    return checker


_FORMAT_CHECKER = _format_checker()


@functools.lru_cache(maxsize=_VALIDATOR_CACHE)
def _compiled(canonical: str) -> Validator:
    """A validator for the schema serialised as `canonical`, built once per distinct schema."""
    schema = json.loads(canonical)
    Draft202012Validator.check_schema(schema)
    validator: Validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
    return validator


def _validator(schema: object) -> Validator:
    # Keyed by a canonical dump, not id(): a caller may mutate a dict, and ids get reused.
    try:
        canonical = json.dumps(
            schema, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_plain
        )
    except (TypeError, ValueError) as exc:
        raise GenerationError(
            f"cannot generate a value for #: the schema is not JSON ({exc})"
        ) from None
    try:
        return _compiled(canonical)
    except SchemaError as exc:
        raise GenerationError(f"invalid schema at {_pointer(exc.path)}: {exc.message}") from None


def _plain(value: object) -> object:
    """json.dumps fallback: read-only Mappings and other sequences count as objects and arrays."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _verify(validator: Validator, value: Any) -> None:
    try:
        error = next(iter(validator.iter_errors(value)), None)
    except Unresolvable as exc:
        raise GenerationError(f"cannot generate a value for #: unresolvable $ref ({exc})") from None
    if error is not None:
        where = _pointer(list(error.absolute_schema_path)[:-1])
        raise GenerationError(
            f"cannot generate a value for {where}: the generated value fails "
            f"'{error.validator}' ({error.message})"
        )


# --------------------------------------------------------------------------- the generator


class _TooComplex(GenerationError):
    """Raised when the budget runs out; never retried on another branch (nothing is left)."""


class _Budget:
    """What one generation may still spend: characters written and steps of work.

    Charged as values are produced, discarded attempts included; running out raises
    _TooComplex. Checks against it before work (the lower bounds) raise plain GenerationErrors,
    as they spend nothing and another branch may still fit. A step is one subschema visited,
    regex group repeat or retry; costlier work counts several (a jsonschema check
    `_CHECK_COST`, a slow faker provider `_SLOW`), so that steps track time, not calls.
    """

    __slots__ = ("chars", "steps")

    def __init__(self) -> None:
        self.chars = _MAX_CHARS
        self.steps = _MAX_STEPS

    def spend(self, chars: int, path: str) -> None:
        self.chars -= chars
        if self.chars < 0:
            raise self.out_of_chars(path)

    def tick(self, path: str, steps: int = 1) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise self.out_of_steps(path)

    def out_of_chars(self, path: str) -> _TooComplex:
        return _TooComplex(
            f"cannot generate a value for {path}: the value would exceed {_MAX_CHARS:,} "
            "characters in total"
        )

    def out_of_steps(self, path: str) -> _TooComplex:
        return _TooComplex(
            f"cannot generate a value for {path}: the schema is too complex "
            f"(more than {_MAX_STEPS:,} generation steps)"
        )

    def too_long(self, path: str, detail: str) -> GenerationError:
        """The error for a value that needs more characters than are left."""
        used = _MAX_CHARS - self.chars
        done = f"; {used:,} already generated" if used else ""
        total = f"more than {_MAX_CHARS:,} characters in total"
        return _fail(path, f"the schema asks for {total} ({detail}{done})")

    def too_many(self, path: str, detail: str) -> GenerationError:
        """The error for a value that needs more steps than are left."""
        return _fail(
            path,
            f"the schema is too complex: it needs more than the {_MAX_STEPS:,} generation "
            f"steps allowed ({detail})",
        )


class _Bound(NamedTuple):
    value: int | Fraction  # exact: ints stay ints (fast), floats become Fractions
    exclusive: bool
    keyword: str
    shown: Any  # the number as written in the schema, for messages


class _Gen:
    """One generation: the root schema, the randomness, and the $ref recursion state."""

    def __init__(self, root: object, rng: random.Random, faker: Faker, validator: Validator):
        self.root = root
        self.rng = rng
        self.faker = faker
        self.validator = validator
        self.refs: list[str] = []
        self.minimal = False
        self.budget = _Budget()
        # least(): (id(schema), full) -> (schema, bound); the schema is kept so ids stay unique.
        self.bounds: dict[tuple[int, bool], tuple[Any, tuple[int, int]]] = {}

    # ----- dispatch

    def value(self, schema: Any, path: str, hint: str | None) -> Any:
        budget = self.budget
        budget.steps -= 1
        if budget.steps < 0:
            raise budget.out_of_steps(path)
        if schema is True:
            schema = {}
        if schema is False:
            raise _fail(path, "the schema false admits no value")
        if not isinstance(schema, Mapping):
            raise _fail(path, "this is not a schema (an object or a boolean)")
        _check_supported(schema, path)
        if "$ref" in schema:
            return self.ref(schema, path, hint)
        if "allOf" in schema:
            return self.value(self.merge(schema, path), path, hint)
        if "anyOf" in schema or "oneOf" in schema:
            return self.branch(schema, path, hint)
        if "const" in schema:
            return self.pick(schema, [schema["const"]], path, "const")
        if "enum" in schema:
            return self.pick(schema, list(schema["enum"]), path, "enum")
        return self.typed(schema, path, hint)

    def is_valid(self, schema: Any, path: str, *values: Any) -> list[bool]:
        """Whether each value satisfies `schema` (a subschema: $refs resolve against the root)."""
        self.budget.tick(path, _CHECK_COST + len(values))
        if isinstance(schema, Mapping) and "$schema" in schema:
            # Keep 2020-12 semantics; an unknown $schema would also make jsonschema warn.
            schema = {k: v for k, v in schema.items() if k != "$schema"}
        checker = self.validator.evolve(schema=schema)
        try:
            return [bool(checker.is_valid(value)) for value in values]
        except Unresolvable as exc:
            raise GenerationError(f"cannot generate a value: unresolvable $ref ({exc})") from None

    def pick(self, schema: Mapping[str, Any], options: list[Any], path: str, kw: str) -> Any:
        checked = self.is_valid(schema, path, *options)
        valid = [o for o, ok in zip(options, checked, strict=True) if ok]
        if not valid:
            raise _fail(path, f"no '{kw}' value satisfies the other keywords")
        chosen = self.rng.choice(valid)
        self.budget.spend(_size(chosen), path)
        return copy.deepcopy(chosen)

    # ----- $ref and composition

    def ref(self, schema: Mapping[str, Any], path: str, hint: str | None) -> Any:
        target_path, target = self.resolve(schema["$ref"], path)
        if len(self.refs) >= _MAX_REF_STACK:
            raise _fail(path, f"$ref {schema['$ref']!r} recursion never reaches a finite value")
        # In 2020-12, keywords beside $ref apply too: treat them as an allOf.
        if any(key not in _ANNOTATIONS for key in schema if key != "$ref"):
            target = self.merge(schema, path)
        saved = self.minimal
        self.minimal = saved or self.refs.count(target_path) >= _MAX_REF_REPEATS
        self.refs.append(target_path)
        try:
            return self.value(target, target_path, hint)
        finally:
            self.refs.pop()
            self.minimal = saved

    def resolve(self, ref: object, path: str) -> tuple[str, Any]:
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
            raise GenerationError(
                f"unsupported keyword '$ref' at {path}: only local JSON-pointer references "
                f"('#', '#/$defs/...') are supported, not {ref!r}"
            )
        node = self.root
        for raw in ref[2:].split("/") if ref != "#" else []:
            token = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise _fail(path, f"$ref {ref!r} does not resolve")
        return ref, node

    def branch(self, schema: Mapping[str, Any], path: str, hint: str | None) -> Any:
        # With both, an anyOf stays among the `rest` each oneOf branch is merged with.
        kw = "oneOf" if "oneOf" in schema else "anyOf"
        branches: Sequence[Any] = schema[kw]
        rest = {key: val for key, val in schema.items() if key != kw}
        reasons: list[str] = []
        for i in self.null_order(range(len(branches)), lambda i: _is_null_schema(branches[i])):
            sub = {"allOf": [rest, branches[i]]} if _asserts(rest) else branches[i]
            try:
                candidate = self.value(sub, f"{path}/{kw}/{i}", hint)
            except _TooComplex:
                raise
            except GenerationError as exc:
                reasons.append(str(exc))
                continue
            # For oneOf this also rejects a value that matches a second branch.
            if self.is_valid(schema, path, candidate)[0]:
                return candidate
            reasons.append(f"the value of branch {i} does not satisfy '{kw}'")
        raise _fail(path, f"no '{kw}' branch yields a valid value (first reason: {reasons[0]})")

    def merge(self, schema: Mapping[str, Any], path: str) -> dict[str, Any]:
        """One schema equivalent to `schema` with its $ref and allOf folded in (simple cases)."""
        parts = self.flatten(schema, path, 0)
        merged: dict[str, Any] = {}
        for part, part_path in parts:
            _check_supported(part, part_path)
            for key, val in part.items():
                if key in _ANNOTATIONS:
                    continue
                merged[key] = _merge_keyword(key, merged[key], val, path) if key in merged else val
        _drop_forbidden(merged, parts, path)
        return merged

    def flatten(self, schema: Any, path: str, depth: int) -> list[tuple[Mapping[str, Any], str]]:
        if depth > _MAX_REF_STACK:
            raise _fail(path, "allOf/$ref nesting never ends")
        if schema is True:
            return []
        if not isinstance(schema, Mapping):
            raise _fail(path, "allOf contains a schema that admits no value")
        own = {key: val for key, val in schema.items() if key not in ("allOf", "$ref")}
        parts: list[tuple[Mapping[str, Any], str]] = [(own, path)] if own else []
        if "$ref" in schema:
            target_path, target = self.resolve(schema["$ref"], path)
            parts += self.flatten(target, target_path, depth + 1)
        for i, sub in enumerate(schema.get("allOf", [])):
            parts += self.flatten(sub, f"{path}/allOf/{i}", depth + 1)
        return parts

    # ----- types

    def null_order(self, items: Sequence[Any] | range, is_null: Callable[[Any], bool]) -> list[Any]:
        # Non-null first for useful values; null first below the recursion bound.
        return sorted(items, key=lambda item: is_null(item) != self.minimal)

    def typed(self, schema: Mapping[str, Any], path: str, hint: str | None) -> Any:
        declared = schema.get("type")
        names = [declared] if isinstance(declared, str) else list(declared or [_infer(schema)])
        errors: list[GenerationError] = []
        for name in self.null_order(names, lambda name: name == "null"):
            try:
                return self.of_type(name, schema, path, hint)
            except _TooComplex:
                raise
            except GenerationError as exc:
                errors.append(exc)
        raise errors[0]

    def of_type(self, name: str, schema: Mapping[str, Any], path: str, hint: str | None) -> Any:
        if name == "null":
            self.budget.spend(4, path)
            return None
        if name == "boolean":
            self.budget.spend(4, path)
            return self.rng.random() < 0.5
        if name in ("integer", "number"):
            number = self.number(schema, path, hint, name == "integer")
            self.budget.spend(len(str(number)), path)
            return number
        if name == "string":
            return self.string(schema, path, hint)
        if name == "array":
            return self.array(schema, path, hint)
        return self.object(schema, path)

    # ----- numbers

    def number(self, schema: Mapping[str, Any], path: str, hint: str | None, integer: bool) -> Any:
        lower, upper = _lower(schema), _upper(schema)
        _check_interval(lower, upper, path)
        if integer or "multipleOf" in schema:
            return self.stepped(schema, path, hint, integer, lower, upper)
        return self.continuous(path, hint, lower, upper)

    def stepped(
        self,
        schema: Mapping[str, Any],
        path: str,
        hint: str | None,
        integer: bool,
        lower: _Bound | None,
        upper: _Bound | None,
    ) -> int | float:
        """A multiple of the step (1, or multipleOf): k * step for a seeded k in range."""
        step = _step(schema.get("multipleOf"), integer)
        kmin = None if lower is None else _k_at_least(lower, step)
        kmax = None if upper is None else _k_at_most(upper, step)
        if kmin is not None and kmax is not None and kmin > kmax:
            raise _fail(path, _empty_steps_reason(schema, integer, lower, upper))
        dlo, dhi = _default_range(hint)
        dk = math.ceil(_ratio(dlo, step)), math.floor(_ratio(dhi, step))
        lo, hi = _window(kmin, kmax, dk[0], dk[1], 10)
        for _ in range(_RETRIES):
            self.budget.tick(path)
            multiple = self.rng.randint(lo, hi) * step
            value = int(multiple) if multiple.denominator == 1 else float(multiple)
            # jsonschema checks a float multipleOf by float division, which can be off.
            if (
                not isinstance(schema.get("multipleOf"), float)
                or self.is_valid(schema, path, value)[0]
            ):
                return value
        raise _fail(path, f"no multiple found that passes 'multipleOf' {schema['multipleOf']}")

    def continuous(
        self, path: str, hint: str | None, lower: _Bound | None, upper: _Bound | None
    ) -> float:
        dlo, dhi = _default_range(hint)
        lo, hi = _window(
            None if lower is None else float(lower.value),
            None if upper is None else float(upper.value),
            float(dlo),
            float(dhi),
            100.0,
        )
        for attempt in range(_RETRIES):
            self.budget.tick(path)
            value = self.rng.uniform(lo, hi)
            value = round(value, 2) if attempt < _RETRIES // 2 else value
            if _within(value, lower, upper):
                return value
        below, above = _show(lower, "-infinity"), _show(upper, "infinity")
        raise _fail(path, f"no number found between {below} and {above}")

    # ----- strings

    def string(self, schema: Mapping[str, Any], path: str, hint: str | None) -> str:
        lo: int = schema.get("minLength", 0)
        hi: int | None = schema.get("maxLength")
        if hi is not None and lo > hi:
            raise _fail(path, f"minLength {lo} is greater than maxLength {hi}")
        if lo > _MAX_LENGTH:
            raise _fail(path, f"minLength {lo} is too large to generate")
        limit = _MAX_LENGTH if hi is None else hi
        fmt = schema.get("format")
        need = max(lo, _pattern_width(schema["pattern"])) if "pattern" in schema else lo
        if need > self.budget.chars:
            detail = f"minLength {lo}" if need == lo else f"'pattern' needs at least {need:,}"
            raise self.budget.too_long(path, detail)
        if "pattern" in schema:
            return self.patterned(schema["pattern"], fmt, path, lo, limit)
        if fmt in _FORMATS:
            text = self.formatted(fmt, path, lo, limit)
        else:
            text = self.fit(self.text(hint, path), lo, limit)
        self.budget.spend(len(text), path)
        return text

    def text(self, hint: str | None, path: str) -> str:
        produce = _text_producer(hint)
        if produce is None:
            return self.faker.word() if hint else self.faker.sentence()
        self.budget.tick(path, _COSTS.get(produce, 0))
        try:
            return produce(self.faker, self.rng)
        except AttributeError:  # a provider this faker locale lacks
            return self.faker.word()

    def fit(self, text: str, lo: int, hi: int) -> str:
        if len(text) < lo:  # words joined by spaces, built in linear time
            words = [text] if text else []
            size = len(text)
            while size < lo:
                word = self.faker.word()
                size += len(word) + (1 if words else 0)
                words.append(word)
            text = " ".join(words)
        text = text[:hi]
        return text.rstrip() if len(text.rstrip()) >= lo else text

    def formatted(self, fmt: str, path: str, lo: int, hi: int) -> str:
        for _ in range(_RETRIES):
            self.budget.tick(path, 1 + _COSTS.get(_FORMATS[fmt], 0))
            text = _FORMATS[fmt](self.faker, self.rng)
            if lo <= len(text) <= hi:
                return text
        raise _fail(path, f"format '{fmt}' values do not fit minLength {lo} and maxLength {hi}")

    def patterned(self, pattern: str, fmt: Any, path: str, lo: int, hi: int) -> str:
        compiled, parsed = _parse_pattern(pattern)

        def ok(text: str) -> bool:
            fits = lo <= len(text) <= hi and compiled.search(text) is not None
            return fits and (fmt not in _FORMATS or _FORMAT_CHECKER.conforms(text, fmt))

        budget = self.budget
        if fmt in _FORMATS:  # a pattern beside a format usually narrows it: filter its values
            for _ in range(_RETRIES):
                budget.tick(path, 1 + _COSTS.get(_FORMATS[fmt], 0))
                text = _FORMATS[fmt](self.faker, self.rng)
                budget.spend(len(text), path)
                if ok(text):
                    return text
        unsupported = ""
        reserves: dict[int, tuple[Any, list[int]]] = {}  # shared by the attempts
        for attempt in range(_RETRIES * 2):
            budget.tick(path)
            # Alternate free repeats (growing spread) with aiming at a length in range.
            target = None if attempt % 2 == 0 else self.rng.randint(lo, min(hi, lo + 16))
            writer = _RegexWriter(self.rng, 4 << (attempt // 8), target, hi, budget, path, reserves)
            try:
                written = writer.write(parsed)
            except _Unsupported as exc:
                unsupported = f" (unsupported regex construct {exc})"
                break
            budget.spend(len(written) + max(0, lo - len(written)), path)  # with _pad's letters
            text = _pad(written, parsed, lo, self.rng)
            if ok(text):
                return text
        for _ in range(_RETRIES):  # last resort for constructs the writer skips: plain words
            budget.tick(path)
            text = self.faker.word()
            budget.spend(len(text), path)
            if ok(text):
                return text
        raise _fail(path, f"no string found for 'pattern' {pattern!r}{unsupported}")

    # ----- arrays

    def array(self, schema: Mapping[str, Any], path: str, hint: str | None) -> list[Any]:
        prefix: Sequence[Any] = schema.get("prefixItems", [])
        items = schema.get("items", True)
        count = self.item_count(schema, path, len(prefix), items is not False)
        count = self.afford_items(schema, path, prefix, items, count)
        item_hint = _singular(hint) if hint else None
        seen: set[str] = set()
        out: list[Any] = []
        for index in range(count):
            sub, sub_path = (
                (prefix[index], f"{path}/prefixItems/{index}")
                if index < len(prefix)
                else (items, f"{path}/items")
            )
            item = self.item(sub, sub_path, item_hint, seen if schema.get("uniqueItems") else None)
            if item is _NOTHING:  # a shorter array is fine if minItems allows it
                minimum = schema.get("minItems", 0)
                if len(out) >= minimum:
                    break
                raise _fail(path, f"uniqueItems: too few distinct items (minItems {minimum})")
            out.append(item)
        return out

    def item_count(self, schema: Mapping[str, Any], path: str, prefix: int, more: bool) -> int:
        lo: int = schema.get("minItems", 0)
        hi: int = schema.get("maxItems", _MAX_ITEMS)
        if lo > hi:
            raise _fail(path, f"minItems {lo} is greater than maxItems {hi}")
        if not more and lo > prefix:
            raise _fail(path, f"minItems {lo} needs more than the {prefix} prefixItems allowed")
        if lo > _MAX_ITEMS:
            raise _fail(path, f"minItems {lo} is too large to generate")
        hi = hi if more else min(hi, prefix)
        if self.minimal:
            return lo
        want = self.rng.randint(max(lo, 1), max(lo, 1) + 2)
        return min(max(want, prefix), hi)

    def afford_items(
        self, schema: Mapping[str, Any], path: str, prefix: Sequence[Any], items: Any, count: int
    ) -> int:
        """`count`, lowered to what the budget affords; GenerationError if minItems is too many."""
        lo = int(schema.get("minItems", 0))
        full = not self.minimal
        each_c, each_s = (0, 0) if items is False else self.least(items, full)
        need_c = need_s = 0
        for index in range(min(lo, len(prefix))):
            chars, steps = self.least(prefix[index], full)
            need_c, need_s = need_c + chars, need_s + steps
        rest = max(0, lo - len(prefix))
        need_c, need_s = need_c + rest * each_c, need_s + rest * each_s
        budget = self.budget
        if need_c > budget.chars or need_s > budget.steps:
            if prefix:
                detail = f"minItems {lo}: at least {{:,}} for its items"
                shown_c, shown_s = need_c, need_s
            else:
                detail = f"minItems {lo} \u00d7 at least {{:,}} for each item of {path}/items"
                shown_c, shown_s = each_c, each_s
            if need_c > budget.chars:
                raise budget.too_long(path, detail.format(shown_c))
            raise budget.too_many(path, detail.format(shown_s))
        # Optional items (beyond minItems) only as far as the budget goes.
        if count > lo and each_c:
            count = max(lo, min(count, lo + (budget.chars - need_c) // each_c))
        if count > lo and each_s:
            count = max(lo, min(count, lo + (budget.steps - need_s) // each_s))
        return count

    def item(self, schema: Any, path: str, hint: str | None, seen: set[str] | None) -> Any:
        """One item; with `seen` (uniqueItems), one not seen before, or _NOTHING."""
        for _ in range(_RETRIES if seen is not None else 1):
            value = self.value(schema, path, hint)
            if seen is None:
                return value
            key = _canonical(value)
            if key not in seen:
                seen.add(key)
                return value
        return _NOTHING

    # ----- objects

    def object(self, schema: Mapping[str, Any], path: str) -> dict[str, Any]:
        props: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        out: dict[str, Any] = {}
        names = self.object_keys(schema, path, props, extra)
        self.afford_properties(schema, path, props, extra, names)
        spend = self.budget.spend
        for name in names:
            spend(len(name), path)
            if name in props:
                out[name] = self.value(props[name], f"{path}/properties/{_escape(name)}", name)
            else:
                out[name] = self.value(extra, f"{path}/additionalProperties", name)
        self.add_extra_keys(schema, path, props, extra, out)
        return out

    def afford_properties(
        self,
        schema: Mapping[str, Any],
        path: str,
        props: Mapping[str, Any],
        extra: Any,
        names: list[str],
    ) -> None:
        """GenerationError if the properties about to be generated cannot fit the budget."""
        low = int(schema.get("minProperties", 0))
        if low > _MAX_ITEMS:
            raise _fail(path, f"minProperties {low} is too large to generate")
        full = not self.minimal
        need_c = need_s = 0
        bounds = []
        for name in names:
            chars, steps = self.least(props.get(name, extra), full)
            need_c, need_s = need_c + len(name) + chars, need_s + steps
            bounds.append((chars, steps))
        missing = max(0, low - len(names))  # a key of a letter and a step each, at least
        need_c, need_s = need_c + missing, need_s + missing
        budget = self.budget
        if need_c > budget.chars or need_s > budget.steps:
            which = 0 if need_c > budget.chars else 1
            most = max(range(len(names)), key=lambda i: bounds[i][which], default=None)
            count = len(names) + missing
            what = "property needs" if count == 1 else "properties need"
            detail = f"its {count:,} {what} at least {{:,}}"
            if most is not None:
                name = names[most]
                where = f"properties/{_escape(name)}" if name in props else "additionalProperties"
                detail += f", {bounds[most][which]:,} of them for {path}/{where}"
            if which == 0:
                raise budget.too_long(path, detail.format(need_c))
            raise budget.too_many(path, detail.format(need_s))

    # ----- lower bounds, for the budget checks

    def least(self, schema: Any, full: bool, depth: int = 0) -> tuple[int, int]:
        """At least how many (characters, steps) `value` spends on `schema`: a lower bound.

        Mirrors the generator's choices: all properties when `full` (not minimal) and no
        maxProperties, otherwise the required ones (also past a $ref, where the recursion bound
        may apply, and in merged parts); minItems items; the cheapest type or branch. Memoised
        per schema object for one generation.
        """
        key = (id(schema), full)
        known = self.bounds.get(key)
        if known is None:
            known = self.bounds[key] = (schema, self.least_of(schema, full, depth))
        return known[1]

    def least_of(self, schema: Any, full: bool, depth: int) -> tuple[int, int]:
        if not isinstance(schema, Mapping) or depth > _MAX_REF_STACK:
            return 0, 1
        if not _COMPOSED.intersection(schema):
            return self.least_own(schema, full, depth)
        # Merging the parts may drop optional properties (additionalProperties false in one
        # part): count only the required ones from here on.
        bounds = [self.least_own(schema, False, depth)]
        if "$ref" in schema:
            try:
                target = self.resolve(schema["$ref"], "#")[1]
            except GenerationError:
                target = True
            bounds.append(self.least(target, False, depth + 1))
        for part in schema.get("allOf", ()):
            bounds.append(self.least(part, False, depth + 1))
        for kw in ("anyOf", "oneOf"):
            options = [self.least(branch, False, depth + 1) for branch in schema.get(kw, ())]
            if options:
                bounds.append((min(c for c, _ in options), min(s for _, s in options)))
        return max(c for c, _ in bounds), max(s for _, s in bounds)

    def least_own(self, schema: Mapping[str, Any], full: bool, depth: int) -> tuple[int, int]:
        if "const" in schema:
            return _size(schema["const"]), 1
        if "enum" in schema:
            options = list(schema["enum"])
            return min((_size(o) for o in options), default=0), 1 + len(options)
        declared = schema.get("type")
        if isinstance(declared, str):
            return self.least_typed(declared, schema, full, depth)
        names = list(declared or [_infer(schema)])
        bounds = [self.least_typed(name, schema, full, depth) for name in names]
        return min(c for c, _ in bounds), min(s for _, s in bounds)

    def least_typed(
        self, name: str, schema: Mapping[str, Any], full: bool, depth: int
    ) -> tuple[int, int]:
        if name in ("null", "boolean"):
            return 4, 1
        if name == "string":
            pattern = schema.get("pattern")
            width = _pattern_width(pattern) if isinstance(pattern, str) else 0
            return max(schema.get("minLength", 0), width), 1
        if name == "array":
            lo = int(schema.get("minItems", 0))
            prefix: Sequence[Any] = schema.get("prefixItems", [])
            parts = [(sub, 1) for sub in prefix[:lo]]
            if lo > len(prefix):
                parts.append((schema.get("items", True), lo - len(prefix)))
            chars, steps = 0, 1
            for sub, times in parts:
                c, s = self.least(sub, full, depth + 1)
                chars, steps = chars + times * c, steps + times * s
            return chars, steps
        if name == "object":
            props: Mapping[str, Any] = schema.get("properties", {})
            required: list[str] = list(schema.get("required", []))
            extra = schema.get("additionalProperties", True)
            names = required
            if full and "maxProperties" not in schema:
                names = [n for n in props if n in required or props[n] is not False]
                names += [n for n in required if n not in props]
            chars, steps = 0, 1
            for key in names:
                c, s = self.least(props.get(key, extra), full, depth + 1)
                chars, steps = chars + len(key) + c, steps + s
            missing = max(0, int(schema.get("minProperties", 0)) - len(names))
            return chars + missing, steps + missing
        return 1, 1  # numbers

    def object_keys(
        self, schema: Mapping[str, Any], path: str, props: Mapping[str, Any], extra: Any
    ) -> list[str]:
        required: list[str] = list(schema.get("required", []))
        wanted = set(required)
        for name in required:
            if name not in props and extra is False:
                raise _fail(
                    path, f"required property {name!r} is forbidden by additionalProperties"
                )
        names = [n for n in props if n in wanted or (not self.minimal and props[n] is not False)]
        names += [n for n in required if n not in props]
        low: int = schema.get("minProperties", 0)
        missing = max(0, low - len(names))
        names += [n for n in props if n not in names and props[n] is not False][:missing]
        cap: int | None = schema.get("maxProperties")
        if cap is not None and len(names) > cap:
            if len(required) > cap:
                raise _fail(
                    path, f"required lists {len(required)} names but maxProperties is {cap}"
                )
            keep = set([n for n in names if n not in wanted][: cap - len(required)])
            names = [n for n in names if n in wanted or n in keep]
        return names

    def add_extra_keys(
        self,
        schema: Mapping[str, Any],
        path: str,
        props: Mapping[str, Any],
        extra: Any,
        out: dict[str, Any],
    ) -> None:
        """Keys outside `properties`, only when minProperties asks for more than there are."""
        low: int = schema.get("minProperties", 0)
        if len(out) < low and extra is False:
            raise _fail(path, f"minProperties {low} needs keys that additionalProperties forbids")
        while len(out) < low:
            self.budget.tick(path)
            name, suffix = self.faker.word(), len(out)
            while name in out or name in props:  # props hold names we chose to leave out
                name, suffix = f"extra_{suffix}", suffix + 1
            self.budget.spend(len(name), path)
            out[name] = self.value(extra, f"{path}/additionalProperties", name)


_NOTHING: Any = object()


def _infer(schema: Mapping[str, Any]) -> str:
    """The type an untyped schema's keywords suggest; each keyword only constrains its type."""
    for name, keywords in _TYPE_HINTS:
        if any(keyword in schema for keyword in keywords):
            return name
    return "string"


def _is_null_schema(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type") in ("null", ["null"])


def _asserts(schema: Mapping[str, Any]) -> bool:
    return any(key not in _ANNOTATIONS for key in schema)


def _check_supported(schema: Mapping[str, Any], path: str) -> None:
    for keyword in _UNSUPPORTED:
        if keyword in schema:
            raise GenerationError(f"unsupported keyword '{keyword}' at {path}")


# --------------------------------------------------------------------------- allOf merging

_LARGEST = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"})
_SMALLEST = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"})
_SUBSCHEMAS = frozenset({"items", "additionalProperties"})
_MAX_CROSS = 64  # anyOf x anyOf combinations tolerated when merging


def _merge_keyword(key: str, a: Any, b: Any, path: str) -> Any:
    """The single value of `key` meaning both `a` and `b`, or GenerationError."""
    if key in _LARGEST:
        return max(a, b)
    if key in _SMALLEST:
        return min(a, b)
    if key in _SUBSCHEMAS:
        if a is False or b is False:
            return False
        return b if a is True else a if b is True else {"allOf": [a, b]}
    if key == "properties":
        names = list(a) + [n for n in b if n not in a]
        both = {n: {"allOf": [a[n], b[n]]} for n in names if n in a and n in b}
        return {n: both.get(n, a.get(n, b.get(n))) for n in names}
    if key == "required":
        return list(a) + [n for n in b if n not in a]
    if key == "uniqueItems":
        return a or b
    if key == "type":
        return _merge_types(a, b, path)
    if key == "enum":
        common = [x for x in a if any(_canonical(x) == _canonical(y) for y in b)]
        if not common:
            raise _fail(path, "allOf: the 'enum' lists have no value in common")
        return common
    if key == "multipleOf":
        fa, fb = Fraction(str(a)), Fraction(str(b))
        lcm = Fraction(
            math.lcm(fa.numerator, fb.numerator), math.gcd(fa.denominator, fb.denominator)
        )
        return int(lcm) if lcm.denominator == 1 else float(lcm)
    if key == "anyOf":
        return _cross_any_of(a, b, path)
    if _canonical(a) == _canonical(b):
        return a
    raise _fail(path, f"allOf: cannot combine two different '{key}' values")


def _merge_types(a: Any, b: Any, path: str) -> list[str]:
    left = [a] if isinstance(a, str) else list(a)
    right = [b] if isinstance(b, str) else list(b)
    common = [t for t in left if t in right]
    if "integer" in left and "number" in right and "integer" not in common:
        common.append("integer")
    if "number" in left and "integer" in right and "integer" not in common:
        common.append("integer")
    if not common:
        raise _fail(path, f"allOf: 'type' {a} and 'type' {b} have nothing in common")
    return common


def _cross_any_of(a: Sequence[Any], b: Sequence[Any], path: str) -> list[Any]:
    # (A1 or A2) and (B1 or B2) = A1&B1 or A1&B2 or ...: exact for anyOf.
    if len(a) * len(b) > _MAX_CROSS:
        raise _fail(path, "allOf: too many 'anyOf' combinations to merge")
    return [{"allOf": [x, y]} for x in a for y in b]


def _drop_forbidden(
    merged: dict[str, Any], parts: list[tuple[Mapping[str, Any], str]], path: str
) -> None:
    """Honour each part's additionalProperties false: it forbids the other parts' properties.

    (A schema-valued additionalProperties is left to the final validation.)
    """
    for part, _part_path in parts:
        if part.get("additionalProperties", True) is not False:
            continue
        allowed = part.get("properties", {})
        for name in list(merged.get("properties", {})):
            if name in allowed:
                continue
            if name in merged.get("required", []):
                raise _fail(path, f"allOf: additionalProperties forbids required {name!r}")
            merged["properties"] = {k: v for k, v in merged["properties"].items() if k != name}


# --------------------------------------------------------------------------- number helpers


def _lower(schema: Mapping[str, Any]) -> _Bound | None:
    bounds = [
        _Bound(_exact(schema[kw]), kw == "exclusiveMinimum", kw, schema[kw])
        for kw in ("minimum", "exclusiveMinimum")
        if kw in schema
    ]
    return max(bounds, key=lambda b: (b.value, b.exclusive)) if bounds else None


def _upper(schema: Mapping[str, Any]) -> _Bound | None:
    bounds = [
        _Bound(_exact(schema[kw]), kw == "exclusiveMaximum", kw, schema[kw])
        for kw in ("maximum", "exclusiveMaximum")
        if kw in schema
    ]
    return min(bounds, key=lambda b: (b.value, not b.exclusive)) if bounds else None


def _show(bound: _Bound | None, missing: str = "no bound") -> str:
    return missing if bound is None else f"{bound.keyword} {bound.shown}"


def _check_interval(lower: _Bound | None, upper: _Bound | None, path: str) -> None:
    if lower is None or upper is None:
        return
    if lower.value > upper.value:
        raise _fail(path, f"{_show(lower)} is greater than {_show(upper)}")
    if lower.value == upper.value and (lower.exclusive or upper.exclusive):
        raise _fail(path, f"{_show(lower)} and {_show(upper)} leave no value between them")


def _empty_steps_reason(
    schema: Mapping[str, Any], integer: bool, lower: _Bound | None, upper: _Bound | None
) -> str:
    between = f"between {_show(lower)} and {_show(upper)}"
    if "multipleOf" in schema:
        return f"no multiple of multipleOf {schema['multipleOf']} lies {between}"
    return f"no integer lies {between}" if integer else f"no number lies {between}"


def _exact(number: float) -> int | Fraction:
    return number if isinstance(number, int) else Fraction(number)


def _step(multiple_of: float | None, integer: bool) -> int | Fraction:
    """The distance between allowed values: 1, multipleOf, or for integers its numerator."""
    if multiple_of is None:
        return 1
    step = Fraction(str(multiple_of))  # the decimal the author wrote, not the binary float
    # Integer multiples of p/q are exactly the multiples of p.
    return step.numerator if integer or step.denominator == 1 else step


def _ratio(value: int | Fraction, step: int | Fraction) -> int | Fraction:
    return value if step == 1 else Fraction(value) / step


def _k_at_least(bound: _Bound, step: int | Fraction) -> int:
    ratio = _ratio(bound.value, step)
    return math.floor(ratio) + 1 if bound.exclusive else math.ceil(ratio)


def _k_at_most(bound: _Bound, step: int | Fraction) -> int:
    ratio = _ratio(bound.value, step)
    return math.ceil(ratio) - 1 if bound.exclusive else math.floor(ratio)


def _window(lo: Any, hi: Any, dlo: Any, dhi: Any, span: Any) -> tuple[Any, Any]:
    """Where to draw from: the schema's bounds, completed by the hint's default range.

    Both bounds given: exactly them (the author chose the range). One bound: the default range
    cut by it, or a window starting at it when they do not overlap.
    """
    if lo is not None and hi is not None:
        return lo, hi
    a = dlo if lo is None else max(lo, dlo)
    b = dhi if hi is None else min(hi, dhi)
    if a < b:  # not a single point: an exclusive bound could exclude it
        return a, b
    # Far from the default range: a window that grows with the bound, so that floats like
    # 1e300 still leave room for different values.
    if lo is not None:
        return lo, lo + max(span, abs(lo) // 2)
    if hi is not None:
        return hi - max(span, abs(hi) // 2), hi
    return dlo, dlo + span


def _within(value: float, lower: _Bound | None, upper: _Bound | None) -> bool:
    exact = Fraction(value)
    above = lower is None or (exact > lower.value if lower.exclusive else exact >= lower.value)
    below = upper is None or (exact < upper.value if upper.exclusive else exact <= upper.value)
    return above and below


# Plausible ranges for numbers named like this when the schema leaves them open.
_NUMBER_HINTS: dict[str, tuple[int, int]] = {
    "age": (18, 90),
    "year": (1990, 2030),
    "month": (1, 12),
    "day": (1, 28),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
    "rating": (1, 5),
    "stars": (1, 5),
    "score": (0, 100),
    "percent": (0, 100),
    "percentage": (0, 100),
    "price": (1, 500),
    "amount": (1, 500),
    "cost": (1, 500),
    "total": (1, 500),
    "latitude": (-90, 90),
    "lat": (-90, 90),
    "longitude": (-180, 180),
    "lon": (-180, 180),
    "lng": (-180, 180),
    "temperature": (-10, 35),
    "count": (1, 20),
    "quantity": (1, 20),
    "limit": (1, 20),
    "page": (1, 20),
    "id": (1, 100_000),
}


def _default_range(hint: str | None) -> tuple[int, int]:
    for key in _hint_keys(hint):
        if key in _NUMBER_HINTS:
            return _NUMBER_HINTS[key]
    return 1, 100


# --------------------------------------------------------------------------- string helpers


def _moment(rng: random.Random) -> datetime:
    # From rng rather than faker: faker's date providers default to ranges ending "now".
    start = datetime(2000, 1, 1, tzinfo=timezone.utc)
    return start + timedelta(seconds=rng.randrange(30 * 365 * 86400))


_Producer = Callable[[Faker, random.Random], str]

# Extra budget steps of the slower producers (faker's name, email, url... take 50-300 us).
_COSTS: dict[_Producer, int] = {}
_SLOW, _MEDIUM = 25, 6


def _costly(cost: int, producer: _Producer) -> _Producer:
    _COSTS[producer] = cost
    return producer


_FORMATS: dict[str, _Producer] = {
    "date-time": lambda f, r: _moment(r).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "date": lambda f, r: _moment(r).strftime("%Y-%m-%d"),
    "time": lambda f, r: _moment(r).strftime("%H:%M:%SZ"),
    "email": _costly(_SLOW, lambda f, r: f.email()),
    "idn-email": _costly(_SLOW, lambda f, r: f.email()),
    "uri": _costly(_SLOW, lambda f, r: f.uri()),
    "url": _costly(_SLOW, lambda f, r: f.url()),
    "uuid": lambda f, r: f.uuid4(),
    "ipv4": _costly(_MEDIUM, lambda f, r: f.ipv4()),
    "ipv6": lambda f, r: f.ipv6(),
    "hostname": _costly(_SLOW, lambda f, r: f.hostname()),
    "idn-hostname": _costly(_SLOW, lambda f, r: f.hostname()),
}


def _title(f: Faker, r: random.Random) -> str:
    return f.sentence(nb_words=4).rstrip(".")


def _names(keys: str, producer: _Producer) -> dict[str, _Producer]:
    return dict.fromkeys(keys.split(), producer)


# Faker text by (normalised) property name; looked up by _hint_keys.
_TEXT_HINTS: dict[str, _Producer] = {
    **_names(
        "name fullname participant attendee author person member user customer contact owner "
        "assignee recipient sender speaker guest employee",
        _costly(_SLOW, lambda f, r: f.name()),
    ),
    **_names("firstname givenname", _costly(_MEDIUM, lambda f, r: f.first_name())),
    **_names("lastname surname familyname", _costly(_MEDIUM, lambda f, r: f.last_name())),
    **_names("username login handle", _costly(_SLOW, lambda f, r: f.user_name())),
    **_names("email emailaddress mail", _FORMATS["email"]),
    **_names(
        "phone phonenumber mobile telephone tel", _costly(_MEDIUM, lambda f, r: f.phone_number())
    ),
    **_names("address streetaddress street", _costly(_SLOW, lambda f, r: f.street_address())),
    **_names(
        "city town location place destination origin", _costly(_MEDIUM, lambda f, r: f.city())
    ),
    **_names("country", lambda f, r: f.country()),
    **_names("countrycode", lambda f, r: f.country_code()),
    **_names("state region province", lambda f, r: f.state()),
    **_names("zip zipcode postcode postalcode", lambda f, r: f.postcode()),
    **_names(
        "company organization organisation employer vendor brand",
        _costly(_SLOW, lambda f, r: f.company()),
    ),
    **_names("job jobtitle occupation profession", lambda f, r: f.job()),
    **_names("title headline heading subject", _title),
    **_names(
        "description summary content text body message comment note notes reason explanation "
        "answer reply response feedback question details bio instructions review",
        lambda f, r: f.sentence(),
    ),
    **_names("date birthday birthdate dateofbirth dob", _FORMATS["date"]),
    **_names("time", lambda f, r: _moment(r).strftime("%H:%M")),
    **_names("at datetime timestamp", _FORMATS["date-time"]),
    **_names("id uuid guid", lambda f, r: f.uuid4()),
    **_names("url uri link website homepage href endpoint", _FORMATS["url"]),
    **_names("domain hostname host", _costly(_SLOW, lambda f, r: f.domain_name())),
    **_names("ip ipaddress", _FORMATS["ipv4"]),
    **_names("color colour", lambda f, r: f.color_name()),
    **_names("language lang", lambda f, r: f.language_name()),
    **_names("currency", lambda f, r: f.currency_code()),
    **_names("timezone tz", lambda f, r: f.timezone()),
    **_names("unit", lambda f, r: r.choice(["celsius", "fahrenheit"])),
    **_names("slug", _costly(_MEDIUM, lambda f, r: f.slug())),
    **_names("filename file", lambda f, r: f.file_name()),
    **_names("path filepath", _costly(_MEDIUM, lambda f, r: f.file_path())),
    **_names("version", lambda f, r: f"{r.randint(0, 5)}.{r.randint(0, 20)}.{r.randint(0, 50)}"),
}


@functools.lru_cache(maxsize=1024)
def _hint_keys(hint: str | None) -> tuple[str, ...]:
    """Lookup keys for a property name: "user_id" -> ("userid", "id"), "firstName" -> ..."""
    if not hint:
        return ()
    words = [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", hint)]
    if not words:
        return ()
    joined, last = "".join(words), words[-1]
    keys = (joined, last, _singular(joined), _singular(last))
    return tuple(dict.fromkeys(keys))  # dedupe, keeping order


def _text_producer(hint: str | None) -> _Producer | None:
    for key in _hint_keys(hint):
        if key in _TEXT_HINTS:
            return _TEXT_HINTS[key]
    return None


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


# --------------------------------------------------------------------------- regex writer

_PRINTABLE = "".join(chr(c) for c in range(32, 127))
_ALNUM = string.ascii_letters + string.digits
_WORD = _ALNUM + "_"
_CATEGORIES = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_WORD": _WORD,
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_DIGIT": "".join(c for c in _PRINTABLE if c not in string.digits),
    "CATEGORY_NOT_WORD": "".join(c for c in _PRINTABLE if c not in _WORD),
    "CATEGORY_NOT_SPACE": _PRINTABLE.replace(" ", ""),
}


class _Unsupported(Exception):
    """A regex construct the writer cannot produce text for (lookaround, conditionals)."""


@functools.lru_cache(maxsize=256)
def _parse_pattern(pattern: str) -> tuple[re.Pattern[str], Any]:
    """The compiled pattern (what jsonschema searches with) and its parse tree.

    check_schema has already rejected patterns Python's re cannot compile.
    """
    return re.compile(pattern), _sre.parse(pattern)


@functools.lru_cache(maxsize=256)
def _pattern_width(pattern: str) -> int:
    """The fewest characters a string matching `pattern` has (a lower bound)."""
    return _seq_width(_parse_pattern(pattern)[1])


_CHAR_OPS = frozenset(["LITERAL", "NOT_LITERAL", "ANY", "IN"])


class _RegexWriter:
    """Writes one string the parsed regex matches.

    Without a target, each repeat runs its minimum plus up to `spread` more times. With a
    target length, repeats keep going while the text (plus what the rest of the pattern needs
    at least) is shorter than the target, never past `limit`: this is how minLength/maxLength
    are met for patterns like ^[a-z]+$.

    The budget is charged a step per repeat of a group, and the text may not outgrow the
    characters left in it (the caller charges them once the text is written). `reserves`, shared
    by one string's attempts, holds each node sequence's per-node reserves (computed once).
    """

    def __init__(
        self,
        rng: random.Random,
        spread: int,
        target: int | None,
        limit: int,
        budget: _Budget,
        path: str,
        reserves: dict[int, tuple[Any, list[int]]],
    ):
        self.rng = rng
        self.spread = spread
        self.target = target
        self.limit = limit
        self.budget = budget
        self.path = path
        self.cap = budget.chars
        self.reserves = reserves
        self.buf: list[str] = []
        self.extra = 0  # characters in `buf` beyond one per entry (backreferences)
        self.groups: dict[int, str] = {}
        self.negated: dict[int, tuple[Any, list[str]]] = {}

    def write(self, parsed: Any) -> str:
        self.seq(parsed, 0)
        return "".join(self.buf)

    def seq(self, nodes: Any, reserve: int) -> None:
        known = self.reserves.get(id(nodes))
        if known is None:  # what the nodes after each one need at least
            widths = [_min_width(op.name, arg) for op, arg in nodes]
            after, total = [], 0
            for width in reversed(widths):
                after.append(total)
                total += width
            known = self.reserves[id(nodes)] = (nodes, after[::-1])
        for (op, arg), rest in zip(nodes, known[1], strict=True):
            self.node(op.name, arg, reserve + rest)

    def node(self, op: str, arg: Any, reserve: int) -> None:
        if op in _CHAR_OPS:
            self.buf.append(self.char(op, arg))
        elif op == "BRANCH":
            self.seq(self.rng.choice(arg[1]), reserve)
        elif op == "SUBPATTERN":
            mark = len(self.buf)
            self.seq(arg[-1], reserve)
            if arg[0] is not None:
                self.groups[arg[0]] = "".join(self.buf[mark:])
        elif op == "ATOMIC_GROUP":
            self.seq(arg, reserve)
        elif op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            self.repeat(arg[0], arg[1], arg[2], reserve)
        elif op == "GROUPREF":
            group = self.groups.get(arg, "")
            self.buf.append(group)
            self.extra += len(group) - 1
            self.check()
        elif op != "AT":  # anchors and \b write nothing; the final search checks them
            raise _Unsupported(op)

    def check(self) -> None:
        if len(self.buf) + self.extra > self.cap:
            raise self.budget.out_of_chars(self.path)

    def tick(self) -> None:
        self.budget.tick(self.path)
        self.check()

    def repeat(self, low: int, high: int, nodes: Any, reserve: int) -> None:
        if len(nodes) == 1 and nodes[0][0].name in _CHAR_OPS:
            self.repeat_char(nodes[0][0].name, nodes[0][1], low, high, reserve)
            return
        for _ in range(low):
            self.seq(nodes, reserve)
            self.tick()
        if self.target is None:
            for _ in range(self.rng.randint(low, min(high, low + self.spread)) - low):
                self.seq(nodes, reserve)
                self.tick()
            return
        count = low
        while count < high and len(self.buf) + reserve < self.target:
            mark = len(self.buf)
            self.seq(nodes, reserve)
            if len(self.buf) == mark or len(self.buf) + reserve > self.limit:
                self.extra -= sum(len(text) - 1 for text in self.buf[mark:])
                del self.buf[mark:]  # an iteration that adds nothing, or too much
                return
            count += 1
            self.tick()

    def repeat_char(self, op: str, arg: Any, low: int, high: int, reserve: int) -> None:
        """repeat() for a single character, e.g. [a-z]{3,}: the same draws, without the walk."""
        buf, char = self.buf, self.char
        if len(buf) + self.extra + low > self.cap:
            raise self.budget.out_of_chars(self.path)
        for _ in range(low):
            buf.append(char(op, arg))
        if self.target is None:
            for _ in range(self.rng.randint(low, min(high, low + self.spread)) - low):
                buf.append(char(op, arg))
        else:
            count = low
            while count < high and len(buf) + reserve < self.target:
                buf.append(char(op, arg))
                if len(buf) + reserve > self.limit:
                    del buf[-1]  # one too many
                    break
                count += 1
        self.check()

    def char(self, op: str, arg: Any) -> str:
        if op == "LITERAL":
            return chr(arg)
        if op == "NOT_LITERAL":
            return self.rng.choice(_PRINTABLE.replace(chr(arg), "") or "_")
        if op == "ANY":
            return self.rng.choice(_ALNUM)
        return self.char_in(arg)

    def char_in(self, items: Sequence[tuple[Any, Any]]) -> str:
        if any(op.name == "NEGATE" for op, _ in items):
            known = self.negated.get(id(items))
            if known is None:
                allowed = [c for c in _PRINTABLE if not _in_class(c, items)]
                known = self.negated[id(items)] = (items, allowed)
            if not known[1]:
                raise _Unsupported("IN")
            return self.rng.choice(known[1])
        op, arg = self.rng.choice(items)
        if op.name == "LITERAL":
            return chr(arg)
        if op.name == "RANGE":
            return chr(self.rng.randint(arg[0], arg[1]))
        if op.name == "CATEGORY":
            return self.rng.choice(_CATEGORIES[arg.name])
        raise _Unsupported(op.name)


def _pad(text: str, parsed: Any, lo: int, rng: random.Random) -> str:
    """Lengthen a too-short match on a side the pattern leaves unanchored (search semantics)."""
    nodes = list(parsed)
    missing = "".join(rng.choice(string.ascii_lowercase) for _ in range(lo - len(text)))
    if not missing:
        return text
    if not (nodes and _is_anchor(nodes[-1], ("AT_END", "AT_END_STRING"))):
        return text + missing
    if not _is_anchor(nodes[0], ("AT_BEGINNING", "AT_BEGINNING_STRING")):
        return missing + text
    return text


def _is_anchor(node: tuple[Any, Any], names: tuple[str, ...]) -> bool:
    return bool(node[0].name == "AT" and node[1].name in names)


def _min_width(op: str, arg: Any) -> int:
    """The fewest characters a regex node can match (0 where unsure: only a hint)."""
    if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
        return 1
    if op == "BRANCH":
        return min(_seq_width(branch) for branch in arg[1])
    if op == "SUBPATTERN":
        return _seq_width(arg[-1])
    if op == "ATOMIC_GROUP":
        return _seq_width(arg)
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return int(arg[0]) * _seq_width(arg[2])
    return 0


def _seq_width(nodes: Any) -> int:
    return sum(_min_width(op.name, arg) for op, arg in nodes)


def _in_class(char: str, items: Sequence[tuple[Any, Any]]) -> bool:
    for op, arg in items:
        if op.name == "LITERAL" and ord(char) == arg:
            return True
        if op.name == "RANGE" and arg[0] <= ord(char) <= arg[1]:
            return True
        if op.name == "CATEGORY" and char in _CATEGORIES.get(arg.name, ""):
            return True
    return False


# --------------------------------------------------------------------------- small helpers


def _fail(path: str, reason: str) -> GenerationError:
    return GenerationError(f"cannot generate a value for {path}: {reason}")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _pointer(parts: Sequence[object]) -> str:
    return "#" + "".join(f"/{_escape(str(part))}" for part in parts)


def _size(value: Any) -> int:
    """Roughly the characters of a JSON value: its strings, keys and numbers (4 for the rest)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(len(str(key)) + _size(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_size(item) for item in value)
    if isinstance(value, bool) or value is None:
        return 4
    return len(str(value))


def _canonical(value: Any) -> str:
    """A key equal for JSON-equal values (1 == 1.0, but true != 1), as uniqueItems compares."""

    def norm(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    return json.dumps(norm(value), sort_keys=True)
