"""Numbers within the schema's bounds: integers, multipleOf steps and floats.

Bounds are compared exactly (ints stay ints, floats become Fractions of the decimal written), so
that `exclusiveMinimum: 0.1` or `multipleOf: 0.01` hold for the value written; open ranges are
completed by a plausible range for the property name (formats.default_range).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

from emulator.jsongen.formats import default_range
from emulator.jsongen.keywords import fail

if TYPE_CHECKING:
    from emulator.jsongen.walk import Gen

RETRIES = 24  # attempts at a value before giving up on a schema location


class _Bound(NamedTuple):
    value: int | Fraction  # exact: ints stay ints (fast), floats become Fractions
    exclusive: bool
    keyword: str
    shown: Any  # the number as written in the schema, for messages


def number(gen: Gen, schema: Mapping[str, Any], path: str, hint: str | None, integer: bool) -> Any:
    """An int (`integer`) or float within the bounds and multipleOf; GenerationError if none."""
    lower, upper = _lower(schema), _upper(schema)
    _check_interval(lower, upper, path)
    if integer or "multipleOf" in schema:
        return _stepped(gen, schema, path, hint, integer, lower, upper)
    return _continuous(gen, path, hint, lower, upper)


def _stepped(
    gen: Gen,
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
        raise fail(path, _empty_steps_reason(schema, integer, lower, upper))
    dlo, dhi = default_range(hint)
    dk = math.ceil(_ratio(dlo, step)), math.floor(_ratio(dhi, step))
    lo, hi = _window(kmin, kmax, dk[0], dk[1], 10)
    for _ in range(RETRIES):
        gen.budget.tick(path)
        multiple = gen.rng.randint(lo, hi) * step
        value = int(multiple) if multiple.denominator == 1 else float(multiple)
        # jsonschema checks a float multipleOf by float division, which can be off.
        if not isinstance(schema.get("multipleOf"), float) or gen.is_valid(schema, path, value)[0]:
            return value
    raise fail(path, f"no multiple found that passes 'multipleOf' {schema['multipleOf']}")


def _continuous(
    gen: Gen, path: str, hint: str | None, lower: _Bound | None, upper: _Bound | None
) -> float:
    dlo, dhi = default_range(hint)
    lo, hi = _window(
        None if lower is None else float(lower.value),
        None if upper is None else float(upper.value),
        float(dlo),
        float(dhi),
        100.0,
    )
    for attempt in range(RETRIES):
        gen.budget.tick(path)
        value = gen.rng.uniform(lo, hi)
        value = round(value, 2) if attempt < RETRIES // 2 else value
        if _within(value, lower, upper):
            return value
    below, above = _show(lower, "-infinity"), _show(upper, "infinity")
    raise fail(path, f"no number found between {below} and {above}")


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
        raise fail(path, f"{_show(lower)} is greater than {_show(upper)}")
    if lower.value == upper.value and (lower.exclusive or upper.exclusive):
        raise fail(path, f"{_show(lower)} and {_show(upper)} leave no value between them")


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
