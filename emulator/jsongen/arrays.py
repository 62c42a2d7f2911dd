"""Arrays: how many items, and which, within the budget.

Arrays hold `minItems` plus up to a few more items, fewer when the budget cannot afford them.
With `contains`, the first `minContains` (default 1) items after `prefixItems` satisfy it too;
with `maxContains`, the others must not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from emulator.jsongen.budget import MAX_ITEMS
from emulator.jsongen.formats import singular
from emulator.jsongen.keywords import canonical, fail
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
    contains, wanted = _contains(schema, path, len(prefix), items is not False)
    count = max(count, min(len(prefix) + wanted, int(schema.get("maxItems", MAX_ITEMS))))
    item_hint = singular(hint) if hint else None
    seen: set[str] = set()
    out: list[Any] = []
    for index in range(count):
        sub, sub_path = (
            (prefix[index], f"{path}/prefixItems/{index}")
            if index < len(prefix)
            else (items, f"{path}/items")
        )
        if contains is not None and index >= len(prefix):
            wanted_here = index - len(prefix) < wanted
            sub = _with_contains(sub, contains, wanted_here, "maxContains" in schema)
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
    budget.afford(need_c, need_s)
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


def _contains(schema: Mapping[str, Any], path: str, prefix: int, more: bool) -> tuple[Any, int]:
    """(the `contains` schema or None, how many items after prefixItems must satisfy it)."""
    if "contains" not in schema:
        return None, 0
    low, high = int(schema.get("minContains", 1)), schema.get("maxContains")
    if high is not None and low > high:
        raise fail(path, f"minContains {low} is greater than maxContains {high}")
    if low and schema["contains"] is False:
        raise fail(path, f"'contains' is false: no item satisfies it (minContains {low})")
    if low and not more:
        return None, 0  # only prefixItems: the final check decides
    if prefix + low > int(schema.get("maxItems", MAX_ITEMS)):
        raise fail(path, f"minContains {low} needs more items than maxItems allows")
    return schema["contains"], low


def _with_contains(sub: Any, contains: Any, wanted: bool, capped: bool) -> Any:
    """The schema of an item: one that satisfies `contains` too, or (under maxContains) one
    that does not."""
    if wanted:
        return {"allOf": [sub, contains]}
    return {"allOf": [sub, {"not": contains}]} if capped else sub
