"""The schema walk: one generation's state, and the dispatch on each subschema's keywords.

`Gen.value(schema, path, hint)` resolves `$ref` (local JSON pointers; keywords beside it apply
too), folds `allOf`, picks an `anyOf`/`oneOf` branch or a `const`/`enum` option, and otherwise
hands the schema to the generator of its type (numbers, strings, containers). A type list or
`anyOf`/`oneOf` tries its members in a seeded order, so that different requests exercise
different branches: the non-null ones shuffled, "null" first one time in four and otherwise last
(below the recursion bound, where the smallest value is wanted: null first, the rest in schema
order); the first that yields a valid value wins. `not`, `if`/`then`/`else` and
`dependentSchemas` are met by trying and checking (see `conditions`).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from faker import Faker
from jsonschema.protocols import Validator  # type: ignore[import-untyped]
from referencing.exceptions import Unresolvable

from emulator.errors import GenerationError
from emulator.jsongen.arrays import array_value
from emulator.jsongen.budget import CHECK_COST, MAX_REF_STACK, Budget, LowerBounds, TooComplex
from emulator.jsongen.conditions import checkable, conditional, is_conditional
from emulator.jsongen.keywords import (
    ANNOTATIONS,
    asserts,
    fail,
    infer,
    is_null_schema,
    size,
)
from emulator.jsongen.merge import merge
from emulator.jsongen.numbers import number
from emulator.jsongen.objects import object_value
from emulator.jsongen.strings import string

MAX_REF_REPEATS = 2  # times one $ref target may be on the stack before values turn minimal
NULL_FIRST = 0.25  # how often a nullable value is null (outside recursion)
_DYNAMIC_REFS = ("$dynamicRef", "$recursiveRef")


class Gen:
    """One generation: the root schema, the randomness, the budget and the $ref recursion state.

    `rng` and `faker` are the only sources of randomness (never the global random module or
    the clock); `validator` is the root schema's, used to check candidates against subschemas.
    """

    def __init__(self, root: object, rng: random.Random, faker: Faker, validator: Validator):
        self.root = root
        self.rng = rng
        self.faker = faker
        self.validator = validator
        self.refs: list[str] = []
        self.minimal = False
        self.budget = Budget()
        self.bounds = LowerBounds(self.resolve)

    # ----- dispatch

    def value(self, schema: Any, path: str, hint: str | None) -> Any:
        """A value for `schema` at `path` (`hint`: the property name); GenerationError if none."""
        budget = self.budget
        budget.steps -= 1
        budget.slice_steps -= 1
        if budget.steps < 0 or budget.slice_steps < 0:
            budget.tick(path, 0)  # raises SliceSpent or TooComplex
        if schema is True:
            schema = {}
        if schema is False:
            raise fail(path, "the schema false admits no value")
        if not isinstance(schema, Mapping):
            raise fail(path, "this is not a schema (an object or a boolean)")
        if "$ref" not in schema and any(key in schema for key in _DYNAMIC_REFS):
            schema = _static_ref(schema)
        if "$ref" in schema:
            return self.ref(schema, path, hint)
        if "allOf" in schema:
            return self.value(merge(schema, path, self.resolve), path, hint)
        if "anyOf" in schema or "oneOf" in schema:
            return self.branch(schema, path, hint)
        if "const" in schema:
            return self.pick(schema, [schema["const"]], path, "const")
        if "enum" in schema:
            return self.pick(schema, list(schema["enum"]), path, "enum")
        if is_conditional(schema):
            return conditional(self, schema, path, hint)
        return self.typed(schema, path, hint)

    def is_valid(self, schema: Any, path: str, *values: Any) -> list[bool]:
        """Whether each value satisfies `schema` (a subschema: $refs resolve against the root)."""
        self.budget.tick(path, CHECK_COST + len(values))
        schema = checkable(schema)
        if isinstance(schema, Mapping) and "$schema" in schema:
            # Keep 2020-12 semantics; an unknown $schema would also make jsonschema warn.
            schema = {k: v for k, v in schema.items() if k != "$schema"}
        checker = self.validator.evolve(schema=schema)
        try:
            return [bool(checker.is_valid(value)) for value in values]
        except Unresolvable as exc:
            raise GenerationError(f"cannot generate a value: unresolvable $ref ({exc})") from None

    def pick(self, schema: Mapping[str, Any], options: list[Any], path: str, kw: str) -> Any:
        """One of `options` (const or enum) that satisfies the rest of `schema`."""
        # Each option satisfies its own `kw`: check it against the other keywords only (with
        # `kw` kept, checking n enum values would cost n * n comparisons), and not at all when
        # the others are annotations.
        rest = {k: v for k, v in schema.items() if k != kw}
        if all(key in ANNOTATIONS or key == "$schema" for key in rest):
            self.budget.tick(path, CHECK_COST + len(options))
            valid = options
        else:
            checked = self.is_valid(rest, path, *options)
            valid = [o for o, ok in zip(options, checked, strict=True) if ok]
        if not valid:
            raise fail(path, f"no '{kw}' value satisfies the other keywords")
        chosen = self.rng.choice(valid)
        self.budget.spend(size(chosen), path)
        return copy.deepcopy(chosen)

    # ----- $ref and composition

    def ref(self, schema: Mapping[str, Any], path: str, hint: str | None) -> Any:
        """A value for the $ref target (with the keywords beside $ref), minimal when recursive."""
        target_path, target = self.resolve(schema["$ref"], path)
        if len(self.refs) >= MAX_REF_STACK:
            raise fail(path, f"$ref {schema['$ref']!r} recursion never reaches a finite value")
        # In 2020-12, keywords beside $ref apply too: treat them as an allOf.
        if any(key not in ANNOTATIONS for key in schema if key != "$ref"):
            target = merge(schema, path, self.resolve)
        saved = self.minimal
        self.minimal = saved or self.refs.count(target_path) >= MAX_REF_REPEATS
        self.refs.append(target_path)
        try:
            return self.value(target, target_path, hint)
        finally:
            self.refs.pop()
            self.minimal = saved

    def resolve(self, ref: object, path: str) -> tuple[str, Any]:
        """(the target's path, the target) of a local $ref (a JSON pointer, or `#name` for an
        `$anchor`/`$dynamicAnchor`); GenerationError otherwise."""
        if isinstance(ref, str) and ref.startswith("#") and ref != "#" and "/" not in ref:
            return self.anchor(ref, path)
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
            raise GenerationError(
                f"unsupported keyword '$ref' at {path}: only references inside the schema "
                f"('#', '#/$defs/...', '#anchor') are supported, not {ref!r}"
            )
        node = self.root
        for raw in ref[2:].split("/") if ref != "#" else []:
            token = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise fail(path, f"$ref {ref!r} does not resolve")
        return ref, node

    def anchor(self, ref: str, path: str) -> tuple[str, Any]:
        """The subschema whose `$anchor` or `$dynamicAnchor` is `ref` without its `#`."""
        name, stack = ref[1:], [("#", self.root)]
        while stack:
            where, node = stack.pop()
            if isinstance(node, Mapping):
                if name in (node.get("$anchor"), node.get("$dynamicAnchor")):
                    return where, node
                stack.extend((f"{where}/{k}", v) for k, v in node.items() if k != "enum")
            elif isinstance(node, list):
                stack.extend((f"{where}/{i}", v) for i, v in enumerate(node))
        raise fail(path, f"$ref {ref!r} names no $anchor")

    def branch(self, schema: Mapping[str, Any], path: str, hint: str | None) -> Any:
        """A value of one anyOf/oneOf branch (merged with the keywords beside it)."""
        # With both, an anyOf stays among the `rest` each oneOf branch is merged with.
        kw = "oneOf" if "oneOf" in schema else "anyOf"
        branches: Sequence[Any] = schema[kw]
        rest = {key: val for key, val in schema.items() if key != kw}
        reasons: list[str] = []
        for i in self.order(range(len(branches)), lambda i: is_null_schema(branches[i])):
            sub = {"allOf": [rest, branches[i]]} if asserts(rest) else branches[i]
            try:
                candidate = self.value(sub, f"{path}/{kw}/{i}", hint)
            except TooComplex:
                raise
            except GenerationError as exc:
                reasons.append(str(exc))
                continue
            # For oneOf this also rejects a value that matches a second branch.
            if self.is_valid(schema, path, candidate)[0]:
                return candidate
            reasons.append(f"the value of branch {i} does not satisfy '{kw}'")
        raise fail(path, f"no '{kw}' branch yields a valid value (first reason: {reasons[0]})")

    # ----- types

    def order(self, items: Sequence[Any] | range, is_null: Callable[[Any], bool]) -> list[Any]:
        """The order to try `items` (branches or types) in, drawn from the seeded generator:
        the non-null ones shuffled, null first one time in four and otherwise last. Below the
        recursion bound: null first, then the schema's order (the smallest value wanted)."""
        nulls = [item for item in items if is_null(item)]
        others = [item for item in items if not is_null(item)]
        if self.minimal:
            return nulls + others
        self.rng.shuffle(others)
        if nulls and self.rng.random() < NULL_FIRST:
            return nulls + others
        return others + nulls

    def typed(self, schema: Mapping[str, Any], path: str, hint: str | None) -> Any:
        """A value of one of the schema's types (declared, or inferred from its keywords)."""
        declared = schema.get("type")
        names = [declared] if isinstance(declared, str) else list(declared or [infer(schema)])
        errors: list[GenerationError] = []
        for name in self.order(names, lambda name: name == "null"):
            try:
                return self.of_type(name, schema, path, hint)
            except TooComplex:
                raise
            except GenerationError as exc:
                errors.append(exc)
        raise errors[0]

    def of_type(self, name: str, schema: Mapping[str, Any], path: str, hint: str | None) -> Any:
        """A value of JSON type `name` satisfying the keywords of that type in `schema`."""
        if name == "null":
            self.budget.spend(4, path)
            return None
        if name == "boolean":
            self.budget.spend(4, path)
            return self.rng.random() < 0.5
        if name in ("integer", "number"):
            value = number(self, schema, path, hint, name == "integer")
            self.budget.spend(len(str(value)), path)
            return value
        if name == "string":
            return string(self, schema, path, hint)
        if name == "array":
            return array_value(self, schema, path, hint)
        return object_value(self, schema, path)


def _static_ref(schema: Mapping[str, Any]) -> dict[str, Any]:
    """`$dynamicRef`/`$recursiveRef` read as a plain `$ref` (their usual target: an anchor of
    this schema, or its root); the final check still applies their own semantics."""
    key = next(k for k in _DYNAMIC_REFS if k in schema)
    return {**{k: v for k, v in schema.items() if k != key}, "$ref": schema[key]}
