"""Objects: which properties, under which names, within the budget.

Objects contain every property of `properties`, required or not, in schema order. Only
`maxProperties` drops optional ones (from the end), and below the recursion bound (a `$ref`
already twice on the stack) only required properties are generated. `dependentRequired` adds
the names a present one needs; `propertyNames` drops optional names it refuses. A name's value
satisfies its `properties` schema and every `patternProperties` schema whose pattern it
matches, or else `additionalProperties`.

Names outside `properties` come from `required`, from `minProperties`, and, for a map (no
`properties`, but a schema for the other names: `additionalProperties`, `propertyNames` or
`patternProperties`, as `dict[str, X]` and `z.record` give), one to three seeded entries.
Such names are drawn from `propertyNames` (its enum, pattern...), else from a
`patternProperties` pattern when other names are forbidden, else from words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from emulator.errors import GenerationError
from emulator.jsongen.budget import MAX_ITEMS, TooComplex
from emulator.jsongen.keywords import escape, fail
from emulator.jsongen.numbers import RETRIES
from emulator.jsongen.patterns import compile_pattern

if TYPE_CHECKING:
    from emulator.jsongen.walk import Gen

_MAP_ENTRIES = (1, 3)  # how many entries a map gets beyond what the schema requires


class _Shape:
    """The keywords of one object schema that decide names and their schemas."""

    def __init__(self, schema: Mapping[str, Any], path: str):
        self.schema = schema
        self.path = path
        self.props: Mapping[str, Any] = schema.get("properties", {})
        self.extra: Any = schema.get("additionalProperties", True)
        self.patterns: Mapping[str, Any] = schema.get("patternProperties", {})
        self.names_schema: Any = schema.get("propertyNames")
        self.required: list[str] = list(schema.get("required", []))

    def matching(self, name: str) -> list[str]:
        """The patternProperties patterns `name` matches."""
        return [p for p in self.patterns if compile_pattern(p).search(name)]

    def value_schema(self, name: str) -> tuple[Any, str]:
        """The schema a value under `name` must satisfy, and its path."""
        parts: list[tuple[Any, str]] = []
        if name in self.props:
            parts.append((self.props[name], f"{self.path}/properties/{escape(name)}"))
        for pattern in self.matching(name):
            pointer = f"{self.path}/patternProperties/{escape(pattern)}"
            parts.append((self.patterns[pattern], pointer))
        if not parts:
            return self.extra, f"{self.path}/additionalProperties"
        if len(parts) == 1:
            return parts[0]
        return {"allOf": [sub for sub, _ in parts]}, parts[0][1]

    def forbids(self, name: str) -> bool:
        """Whether no value may appear under `name` (false schema, or not a valid name)."""
        return self.value_schema(name)[0] is False

    def is_map(self) -> bool:
        """A map: no `properties`, but a schema for the names or values of the others."""
        extra = self.extra
        values = isinstance(extra, Mapping) and bool(extra)
        return not self.props and (values or bool(self.patterns) or self.names_schema is not None)


def object_value(gen: Gen, schema: Mapping[str, Any], path: str) -> dict[str, Any]:
    """An object for `schema` (properties, patterns, names, bounds), or GenerationError."""
    shape = _Shape(schema, path)
    names = _object_keys(gen, shape)
    _afford_properties(gen, shape, names)
    out: dict[str, Any] = {}
    for name in names:
        gen.budget.spend(len(name), path)
        sub, sub_path = shape.value_schema(name)
        out[name] = gen.value(sub, sub_path, name)
    _add_extra_keys(gen, shape, out)
    return out


def _object_keys(gen: Gen, shape: _Shape) -> list[str]:
    props, required, path = shape.props, shape.required, shape.path
    wanted = set(required)
    for name in required:
        if name not in props and shape.forbids(name):
            raise fail(path, f"required property {name!r} is forbidden by additionalProperties")
    names = [n for n in props if n in wanted or (not gen.minimal and props[n] is not False)]
    names += [n for n in required if n not in props]
    names = _close_dependents(shape, names)
    names = _allowed_names(gen, shape, names)
    low: int = shape.schema.get("minProperties", 0)
    missing = max(0, low - len(names))
    names += [n for n in props if n not in names and props[n] is not False][:missing]
    cap: int | None = shape.schema.get("maxProperties")
    if cap is not None and len(names) > cap:
        if len(required) > cap:
            raise fail(path, f"required lists {len(required)} names but maxProperties is {cap}")
        keep = set([n for n in names if n not in wanted][: cap - len(required)])
        names = _close_dependents(shape, [n for n in names if n in wanted or n in keep])
    return names


def _close_dependents(shape: _Shape, names: list[str]) -> list[str]:
    """`names` plus every name `dependentRequired` asks for, transitively, in order."""
    dependents: Mapping[str, Any] = shape.schema.get("dependentRequired", {})
    out = list(names)
    for name in out:  # grows while iterating: the closure
        for needed in dependents.get(name, ()):
            if needed not in out:
                out.append(needed)
    return out


def _allowed_names(gen: Gen, shape: _Shape, names: list[str]) -> list[str]:
    """`names` without the optional ones propertyNames refuses; GenerationError for a required
    name it refuses."""
    if shape.names_schema is None or not names:
        return names
    checks = gen.is_valid(shape.names_schema, f"{shape.path}/propertyNames", *names)
    refused = [n for n, ok in zip(names, checks, strict=True) if not ok]
    for name in refused:
        if name in shape.required:
            raise fail(shape.path, f"required property {name!r} does not satisfy propertyNames")
    return [n for n in names if n not in refused]


def _afford_properties(gen: Gen, shape: _Shape, names: list[str]) -> None:
    """GenerationError if the properties about to be generated cannot fit the budget."""
    path = shape.path
    low = int(shape.schema.get("minProperties", 0))
    if low > MAX_ITEMS:
        raise fail(path, f"minProperties {low} is too large to generate")
    full = not gen.minimal
    need_c = need_s = 0
    bounds = []
    for name in names:
        chars, steps = gen.bounds.least(shape.props.get(name, shape.extra), full)
        need_c, need_s = need_c + len(name) + chars, need_s + steps
        bounds.append((chars, steps))
    missing = max(0, low - len(names))  # a key of a letter and a step each, at least
    need_c, need_s = need_c + missing, need_s + missing
    budget = gen.budget
    budget.afford(need_c, need_s)
    if need_c > budget.chars or need_s > budget.steps:
        which = 0 if need_c > budget.chars else 1
        most = max(range(len(names)), key=lambda i: bounds[i][which], default=None)
        count = len(names) + missing
        what = "property needs" if count == 1 else "properties need"
        detail = f"its {count:,} {what} at least {{:,}}"
        if most is not None:
            name = names[most]
            where = f"properties/{escape(name)}" if name in shape.props else "additionalProperties"
            detail += f", {bounds[most][which]:,} of them for {path}/{where}"
        if which == 0:
            raise budget.too_long(path, detail.format(need_c))
        raise budget.too_many(path, detail.format(need_s))


def _add_extra_keys(gen: Gen, shape: _Shape, out: dict[str, Any]) -> None:
    """Names outside `properties`: as many as minProperties needs, and a few for a map."""
    low: int = shape.schema.get("minProperties", 0)
    target = low
    if shape.is_map() and not gen.minimal:
        target = max(low, len(out) + gen.rng.randint(*_MAP_ENTRIES))
        target = min(target, shape.schema.get("maxProperties", target))
    while len(out) < target:
        gen.budget.tick(shape.path)
        name = _new_name(gen, shape, out)
        if name is None:
            if len(out) < low:
                raise fail(
                    shape.path,
                    f"minProperties {low} needs more keys than propertyNames, "
                    "patternProperties and additionalProperties allow",
                )
            return
        gen.budget.spend(len(name), shape.path)
        sub, sub_path = shape.value_schema(name)
        try:
            out[name] = gen.value(sub, sub_path, name)
        except TooComplex:
            raise
        except GenerationError:
            if len(out) < low:
                raise
            return  # an optional map entry whose values cannot be generated: fewer entries


def _new_name(gen: Gen, shape: _Shape, taken: Mapping[str, Any]) -> str | None:
    """A name not in `taken` nor `properties` (they hold names left out on purpose) under
    which a value may appear, or None when none is found."""
    for attempt in range(RETRIES):
        name = _draw_name(gen, shape, len(taken) + attempt)
        if name is None:
            return None
        if name in taken or name in shape.props or shape.forbids(name):
            continue
        if (
            shape.names_schema is not None
            and not gen.is_valid(shape.names_schema, shape.path, name)[0]
        ):
            continue
        return name
    return None


def _draw_name(gen: Gen, shape: _Shape, index: int) -> str | None:
    try:
        if shape.names_schema is not None:
            drawn = gen.value(shape.names_schema, f"{shape.path}/propertyNames", None)
            return drawn if isinstance(drawn, str) else None
        if shape.extra is False and shape.patterns:
            pattern = gen.rng.choice(sorted(shape.patterns))
            drawn = gen.value({"type": "string", "pattern": pattern}, shape.path, None)
            return str(drawn)
    except TooComplex:
        raise
    except GenerationError:
        return None
    word = gen.faker.word()
    return word if index < RETRIES // 2 else f"{word}_{index}"
