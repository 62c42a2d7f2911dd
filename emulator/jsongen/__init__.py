"""JSON values that satisfy a JSON Schema: structured output and tool-call arguments.

`generate_json(schema, rng, faker)` walks the schema (draft 2020-12 semantics; draft-07
`definitions` work too, being plain JSON pointers) and builds a value from `rng` and `faker`
only (never the global random module or the clock), so the same schema and equally seeded
`rng` and `faker` give the same value on every run and machine (for one Faker version).
Every value is checked against the whole schema with jsonschema (with format checking for the
formats generated here) before it is returned; a schema that cannot be satisfied, or that uses a
value it cannot find, raises `GenerationError` naming the path inside the schema and why.
Nothing invalid is ever returned.

Policies, chosen so that test output is predictable and shows every field (each module of the
package tells its own):
- Objects contain every property of `properties`, required or not, in schema order. Only
  `maxProperties` drops optional ones (from the end), and below the recursion bound (a `$ref`
  already twice on the stack) only required properties are generated. Names outside
  `properties` are added only when `required` lists them or `minProperties` needs them.
- A type list or `anyOf`/`oneOf` tries its members in a seeded order (different requests get
  different branches; null one time in four), the first that yields a valid value wins.
- Keywords no value can be built from directly (`not`, `if`/`then`/`else`,
  `dependentSchemas`) are met by candidates from stronger schemas, checked; maps
  (`additionalProperties` schemas, `propertyNames`, `patternProperties`) get a few entries
  whose names satisfy them.
- Unconstrained strings follow the property name (name, email, city, date, id, url...).
- `pattern` is written from Python's own parse of the regex (classes, groups, alternation,
  repeats, backreferences, Unicode property classes; no lookaround), then checked with a
  search as jsonschema does (`patterns`).
- `format`s other than those in `formats.FORMATS` are annotations (as jsonschema treats them)
  and ignored.

One call has a budget (see `budget`): characters written and steps of work; past it,
GenerationError names the path, so the single event loop serving requests is never held for long.

Modules: `walk` (the schema walk and dispatch), `merge` (allOf), `conditions` (not, if,
dependentSchemas), `numbers`, `strings` and `formats` (strings, formats, name hints), `regex`
and `patterns` (writing and checking strings for `pattern`), `arrays`, `objects`, `budget`
(limits and lower bounds), `check` (validating the result), `keywords` (the vocabulary, paths
and messages).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from faker import Faker

from emulator.jsongen.budget import MAX_STEPS
from emulator.jsongen.check import compiled, validator_for, verify
from emulator.jsongen.walk import Gen

__all__ = ["generate_json", "generate_object"]


def generate_json(schema: Mapping[str, Any] | bool, rng: random.Random, faker: Faker) -> Any:
    """A value valid against `schema`, or GenerationError naming the schema path and keyword."""
    validator = validator_for(schema)
    gen = Gen(schema, rng, faker, validator)
    if gen.budget.slice_steps < MAX_STEPS:  # inline: a schema that needs more stops at once
        gen.budget.afford(*gen.bounds.least(schema, True))
    value = gen.value(schema, "#", None)
    verify(validator, value)
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
    gen = Gen(True, rng, faker, compiled("true"))
    fields = [_OBJECT_FIELDS[i] for i in picked]
    return {name: gen.value({"type": kind}, f"#/properties/{name}", name) for name, kind in fields}
