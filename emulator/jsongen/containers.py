"""Arrays and objects: how many items and which properties, within the budget.

Objects contain every property of `properties`, required or not, in schema order. Only
`maxProperties` drops optional ones (from the end), and below the recursion bound (a `$ref`
already twice on the stack) only required properties are generated. Names outside `properties`
are added only when `required` lists them or `minProperties` needs them. Arrays hold
`minItems` plus up to a few more items, fewer when the budget cannot afford them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from emulator.jsongen.budget import MAX_ITEMS
from emulator.jsongen.formats import singular
from emulator.jsongen.keywords import canonical, escape, fail
from emulator.jsongen.numbers import RETRIES

if TYPE_CHECKING:
    from emulator.jsongen.walk import Gen

NOTHING: Any = object()  # what item() returns when no distinct item is found


def array_value(gen: Gen, schema: Mapping[str, Any], path: str, hint: str | None) -> list[Any]:
    """An array for `schema` (prefixItems, items, bounds, uniqueItems), or GenerationError."""
    prefix: Sequence[Any] = schema.get("prefixItems", [])
    items = schema.get("items", True)
    count = _item_count(gen, schema, path, len(prefix), items is not False)
    count = _afford_items(gen, schema, path, prefix, items, count)
    item_hint = singular(hint) if hint else None
    seen: set[str] = set()
    out: list[Any] = []
    for index in range(count):
        sub, sub_path = (
            (prefix[index], f"{path}/prefixItems/{index}")
            if index < len(prefix)
            else (items, f"{path}/items")
        )
        item = _item(gen, sub, sub_path, item_hint, seen if schema.get("uniqueItems") else None)
        if item is NOTHING:  # a shorter array is fine if minItems allows it
            minimum = schema.get("minItems", 0)
            if len(out) >= minimum:
                break
            raise fail(path, f"uniqueItems: too few distinct items (minItems {minimum})")
        out.append(item)
    return out


def _item_count(gen: Gen, schema: Mapping[str, Any], path: str, prefix: int, more: bool) -> int:
    lo: int = schema.get("minItems", 0)
    hi: int = schema.get("maxItems", MAX_ITEMS)
    if lo > hi:
        raise fail(path, f"minItems {lo} is greater than maxItems {hi}")
    if not more and lo > prefix:
        raise fail(path, f"minItems {lo} needs more than the {prefix} prefixItems allowed")
    if lo > MAX_ITEMS:
        raise fail(path, f"minItems {lo} is too large to generate")
    hi = hi if more else min(hi, prefix)
    if gen.minimal:
        return lo
    want = gen.rng.randint(max(lo, 1), max(lo, 1) + 2)
    return min(max(want, prefix), hi)


def _afford_items(
    gen: Gen, schema: Mapping[str, Any], path: str, prefix: Sequence[Any], items: Any, count: int
) -> int:
    """`count`, lowered to what the budget affords; GenerationError if minItems is too many."""
    lo = int(schema.get("minItems", 0))
    full = not gen.minimal
    each_c, each_s = (0, 0) if items is False else gen.bounds.least(items, full)
    need_c = need_s = 0
    for index in range(min(lo, len(prefix))):
        chars, steps = gen.bounds.least(prefix[index], full)
        need_c, need_s = need_c + chars, need_s + steps
    rest = max(0, lo - len(prefix))
    need_c, need_s = need_c + rest * each_c, need_s + rest * each_s
    budget = gen.budget
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


def _item(gen: Gen, schema: Any, path: str, hint: str | None, seen: set[str] | None) -> Any:
    """One item; with `seen` (uniqueItems), one not seen before, or NOTHING."""
    for _ in range(RETRIES if seen is not None else 1):
        value = gen.value(schema, path, hint)
        if seen is None:
            return value
        key = canonical(value)
        if key not in seen:
            seen.add(key)
            return value
    return NOTHING


# ----- objects


def object_value(gen: Gen, schema: Mapping[str, Any], path: str) -> dict[str, Any]:
    """An object for `schema` (properties, required, bounds), or GenerationError."""
    props: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    out: dict[str, Any] = {}
    names = _object_keys(gen, schema, path, props, extra)
    _afford_properties(gen, schema, path, props, extra, names)
    spend = gen.budget.spend
    for name in names:
        spend(len(name), path)
        if name in props:
            out[name] = gen.value(props[name], f"{path}/properties/{escape(name)}", name)
        else:
            out[name] = gen.value(extra, f"{path}/additionalProperties", name)
    _add_extra_keys(gen, schema, path, props, extra, out)
    return out


def _afford_properties(
    gen: Gen,
    schema: Mapping[str, Any],
    path: str,
    props: Mapping[str, Any],
    extra: Any,
    names: list[str],
) -> None:
    """GenerationError if the properties about to be generated cannot fit the budget."""
    low = int(schema.get("minProperties", 0))
    if low > MAX_ITEMS:
        raise fail(path, f"minProperties {low} is too large to generate")
    full = not gen.minimal
    need_c = need_s = 0
    bounds = []
    for name in names:
        chars, steps = gen.bounds.least(props.get(name, extra), full)
        need_c, need_s = need_c + len(name) + chars, need_s + steps
        bounds.append((chars, steps))
    missing = max(0, low - len(names))  # a key of a letter and a step each, at least
    need_c, need_s = need_c + missing, need_s + missing
    budget = gen.budget
    if need_c > budget.chars or need_s > budget.steps:
        which = 0 if need_c > budget.chars else 1
        most = max(range(len(names)), key=lambda i: bounds[i][which], default=None)
        count = len(names) + missing
        what = "property needs" if count == 1 else "properties need"
        detail = f"its {count:,} {what} at least {{:,}}"
        if most is not None:
            name = names[most]
            where = f"properties/{escape(name)}" if name in props else "additionalProperties"
            detail += f", {bounds[most][which]:,} of them for {path}/{where}"
        if which == 0:
            raise budget.too_long(path, detail.format(need_c))
        raise budget.too_many(path, detail.format(need_s))


def _object_keys(
    gen: Gen, schema: Mapping[str, Any], path: str, props: Mapping[str, Any], extra: Any
) -> list[str]:
    required: list[str] = list(schema.get("required", []))
    wanted = set(required)
    for name in required:
        if name not in props and extra is False:
            raise fail(path, f"required property {name!r} is forbidden by additionalProperties")
    names = [n for n in props if n in wanted or (not gen.minimal and props[n] is not False)]
    names += [n for n in required if n not in props]
    low: int = schema.get("minProperties", 0)
    missing = max(0, low - len(names))
    names += [n for n in props if n not in names and props[n] is not False][:missing]
    cap: int | None = schema.get("maxProperties")
    if cap is not None and len(names) > cap:
        if len(required) > cap:
            raise fail(path, f"required lists {len(required)} names but maxProperties is {cap}")
        keep = set([n for n in names if n not in wanted][: cap - len(required)])
        names = [n for n in names if n in wanted or n in keep]
    return names


def _add_extra_keys(
    gen: Gen,
    schema: Mapping[str, Any],
    path: str,
    props: Mapping[str, Any],
    extra: Any,
    out: dict[str, Any],
) -> None:
    """Keys outside `properties`, only when minProperties asks for more than there are."""
    low: int = schema.get("minProperties", 0)
    if len(out) < low and extra is False:
        raise fail(path, f"minProperties {low} needs keys that additionalProperties forbids")
    while len(out) < low:
        gen.budget.tick(path)
        name, suffix = gen.faker.word(), len(out)
        while name in out or name in props:  # props hold names we chose to leave out
            name, suffix = f"extra_{suffix}", suffix + 1
        gen.budget.spend(len(name), path)
        out[name] = gen.value(extra, f"{path}/additionalProperties", name)
