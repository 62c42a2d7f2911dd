"""What one generation may spend, and lower bounds of what a schema will cost.

A call of `generate_json` has a budget: at most `MAX_CHARS` characters (strings, keys, numbers,
counted as they are written, discarded attempts included) and `MAX_STEPS` steps of work
(subschemas visited, regex repeats, retries, enum options checked). Arrays, objects and strings
first compare a lower bound of what they need (`LowerBounds`) with what is left, so that
obviously huge schemas fail at once, and arrays draw fewer optional items rather than overrun it.
Past the budget, GenerationError names the path: the single event loop serving requests is never
held for long.

Within `emulator.inline.inline_slice(steps, chars)` a generation also has a slice, far smaller
than the budget: the server tries a request's generation on the event loop first and, the moment
it would spend more than the slice, stops it (`SliceSpent`) and redoes it in a worker thread
with the whole budget. The slice changes no choice (every decision reads the budget, never the
slice), so both give the same value.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from emulator.errors import GenerationError
from emulator.inline import SliceSpent, current_slice
from emulator.jsongen.keywords import COMPOSED, fail, infer, size
from emulator.jsongen.regex import pattern_width

MAX_STEPS = 200_000  # steps of work per call: about 10 microseconds each (see Budget)
MAX_CHARS = 1_000_000  # characters of output per call (strings, keys, numbers), attempts included
MAX_LENGTH = 100_000  # longest string generated
MAX_ITEMS = 10_000  # most array items or object properties generated
MAX_REF_STACK = 32  # nested $refs before a recursion is declared endless
CHECK_COST = 5  # steps per jsonschema check of a candidate value (plus one per value)


class TooComplex(GenerationError):
    """Raised when the budget runs out; never retried on another branch (nothing is left)."""


class Budget:
    """What one generation may still spend: characters written and steps of work.

    Charged as values are produced, discarded attempts included; running out raises
    TooComplex. Checks against it before work (the lower bounds) raise plain GenerationErrors,
    as they spend nothing and another branch may still fit. A step is one subschema visited,
    regex group repeat or retry; costlier work counts several (a jsonschema check
    `CHECK_COST`, a slow faker provider more), so that steps track time, not calls.
    """

    __slots__ = ("chars", "slice_chars", "slice_steps", "steps")

    def __init__(self) -> None:
        self.chars = MAX_CHARS
        self.steps = MAX_STEPS
        inline = current_slice()
        # What the inline slice still allows (no slice: more than any budget).
        self.slice_steps, self.slice_chars = inline if inline else (sys.maxsize, sys.maxsize)

    def spend(self, chars: int, path: str) -> None:
        """Charge `chars` characters written for `path`; TooComplex when none are left
        (SliceSpent when the inline slice has none left)."""
        self.chars -= chars
        self.slice_chars -= chars
        if self.slice_chars < 0:
            raise SliceSpent()
        if self.chars < 0:
            raise self.out_of_chars(path)

    def tick(self, path: str, steps: int = 1) -> None:
        """Charge `steps` steps of work for `path`; TooComplex when none are left
        (SliceSpent when the inline slice has none left)."""
        self.steps -= steps
        self.slice_steps -= steps
        if self.slice_steps < 0:
            raise SliceSpent()
        if self.steps < 0:
            raise self.out_of_steps(path)

    def afford(self, chars: int, steps: int = 0) -> None:
        """SliceSpent when the inline slice cannot afford `chars` characters and `steps` steps
        (a lower bound of what is about to be spent); nothing otherwise."""
        if chars > self.slice_chars or steps > self.slice_steps:
            raise SliceSpent()

    def out_of_chars(self, path: str) -> TooComplex:
        """The error for running out of characters at `path`."""
        return TooComplex(
            f"cannot generate a value for {path}: the value would exceed {MAX_CHARS:,} "
            "characters in total"
        )

    def out_of_steps(self, path: str) -> TooComplex:
        """The error for running out of steps at `path`."""
        return TooComplex(
            f"cannot generate a value for {path}: the schema is too complex "
            f"(more than {MAX_STEPS:,} generation steps)"
        )

    def too_long(self, path: str, detail: str) -> GenerationError:
        """The error for a value that needs more characters than are left."""
        used = MAX_CHARS - self.chars
        done = f"; {used:,} already generated" if used else ""
        total = f"more than {MAX_CHARS:,} characters in total"
        return fail(path, f"the schema asks for {total} ({detail}{done})")

    def too_many(self, path: str, detail: str) -> GenerationError:
        """The error for a value that needs more steps than are left."""
        return fail(
            path,
            f"the schema is too complex: it needs more than the {MAX_STEPS:,} generation "
            f"steps allowed ({detail})",
        )


Resolve = Callable[[object, str], tuple[str, Any]]


class LowerBounds:
    """At least how many (characters, steps) generating a subschema spends, memoised.

    Mirrors the generator's choices: all properties when `full` (not minimal) and no
    maxProperties, otherwise the required ones (also past a $ref, where the recursion bound
    may apply, and in merged parts); minItems items; the cheapest type or branch. One instance
    per generation: memoised by schema object identity (the schema is kept so ids stay unique).
    """

    def __init__(self, resolve: Resolve):
        self.resolve = resolve
        self.known: dict[tuple[int, bool], tuple[Any, tuple[int, int]]] = {}

    def least(self, schema: Any, full: bool, depth: int = 0) -> tuple[int, int]:
        """A lower bound of the (characters, steps) a value of `schema` spends."""
        key = (id(schema), full)
        known = self.known.get(key)
        if known is None:
            known = self.known[key] = (schema, self.least_of(schema, full, depth))
        return known[1]

    def least_of(self, schema: Any, full: bool, depth: int) -> tuple[int, int]:
        if not isinstance(schema, Mapping) or depth > MAX_REF_STACK:
            return 0, 1
        if not COMPOSED.intersection(schema):
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
            return size(schema["const"]), 1
        if "enum" in schema:
            options = list(schema["enum"])
            return min((size(o) for o in options), default=0), 1 + len(options)
        declared = schema.get("type")
        if isinstance(declared, str):
            return self.least_typed(declared, schema, full, depth)
        names = list(declared or [infer(schema)])
        bounds = [self.least_typed(name, schema, full, depth) for name in names]
        return min(c for c, _ in bounds), min(s for _, s in bounds)

    def least_typed(
        self, name: str, schema: Mapping[str, Any], full: bool, depth: int
    ) -> tuple[int, int]:
        if name in ("null", "boolean"):
            return 4, 1
        if name == "string":
            pattern = schema.get("pattern")
            width = pattern_width(pattern) if isinstance(pattern, str) else 0
            return max(schema.get("minLength", 0), width), 1
        if name == "array":
            return self.least_array(schema, full, depth)
        if name == "object":
            return self.least_object(schema, full, depth)
        return 1, 1  # numbers

    def least_array(self, schema: Mapping[str, Any], full: bool, depth: int) -> tuple[int, int]:
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

    def least_object(self, schema: Mapping[str, Any], full: bool, depth: int) -> tuple[int, int]:
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
