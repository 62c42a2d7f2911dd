"""Strings: formats, faker text that follows the property name, and `pattern`s.

Length bounds hold for every kind. A `pattern` is written by the regex writer and checked with
`re.search` (as jsonschema checks it); beside a supported `format`, the format's values are
filtered by the pattern first. Unconstrained strings follow the property name (name, email,
city, date, id, url...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from emulator.jsongen.budget import MAX_LENGTH
from emulator.jsongen.check import FORMAT_CHECKER
from emulator.jsongen.formats import COSTS, FORMATS, text_producer
from emulator.jsongen.keywords import fail
from emulator.jsongen.numbers import RETRIES
from emulator.jsongen.regex import RegexWriter, Unsupported, pad, parse_pattern, pattern_width

if TYPE_CHECKING:
    from emulator.jsongen.walk import Gen


def string(gen: Gen, schema: Mapping[str, Any], path: str, hint: str | None) -> str:
    """A string for `schema` (length, format, pattern); GenerationError if none is found."""
    lo: int = schema.get("minLength", 0)
    hi: int | None = schema.get("maxLength")
    if hi is not None and lo > hi:
        raise fail(path, f"minLength {lo} is greater than maxLength {hi}")
    if lo > MAX_LENGTH:
        raise fail(path, f"minLength {lo} is too large to generate")
    limit = MAX_LENGTH if hi is None else hi
    fmt = schema.get("format")
    need = max(lo, pattern_width(schema["pattern"])) if "pattern" in schema else lo
    gen.budget.afford(need)
    if need > gen.budget.chars:
        detail = f"minLength {lo}" if need == lo else f"'pattern' needs at least {need:,}"
        raise gen.budget.too_long(path, detail)
    if "pattern" in schema:
        return _patterned(gen, schema["pattern"], fmt, path, lo, limit)
    if fmt in FORMATS:
        text = _formatted(gen, fmt, path, lo, limit)
    else:
        text = _fit(gen, _text(gen, hint, path), lo, limit)
    gen.budget.spend(len(text), path)
    return text


def _text(gen: Gen, hint: str | None, path: str) -> str:
    produce = text_producer(hint)
    if produce is None:
        return gen.faker.word() if hint else gen.faker.sentence()
    gen.budget.tick(path, COSTS.get(produce, 0))
    try:
        return produce(gen.faker, gen.rng)
    except AttributeError:  # a provider this faker locale lacks
        return gen.faker.word()


def _fit(gen: Gen, text: str, lo: int, hi: int) -> str:
    if len(text) < lo:  # words joined by spaces, built in linear time
        words = [text] if text else []
        size = len(text)
        while size < lo:
            word = gen.faker.word()
            size += len(word) + (1 if words else 0)
            words.append(word)
        text = " ".join(words)
    text = text[:hi]
    return text.rstrip() if len(text.rstrip()) >= lo else text


def _formatted(gen: Gen, fmt: str, path: str, lo: int, hi: int) -> str:
    for _ in range(RETRIES):
        gen.budget.tick(path, 1 + COSTS.get(FORMATS[fmt], 0))
        text = FORMATS[fmt](gen.faker, gen.rng)
        if lo <= len(text) <= hi:
            return text
    raise fail(path, f"format '{fmt}' values do not fit minLength {lo} and maxLength {hi}")


def _patterned(gen: Gen, pattern: str, fmt: Any, path: str, lo: int, hi: int) -> str:
    compiled, parsed = parse_pattern(pattern)

    def ok(text: str) -> bool:
        fits = lo <= len(text) <= hi and compiled.search(text) is not None
        return fits and (fmt not in FORMATS or FORMAT_CHECKER.conforms(text, fmt))

    budget = gen.budget
    if fmt in FORMATS:  # a pattern beside a format usually narrows it: filter its values
        for _ in range(RETRIES):
            budget.tick(path, 1 + COSTS.get(FORMATS[fmt], 0))
            text = FORMATS[fmt](gen.faker, gen.rng)
            budget.spend(len(text), path)
            if ok(text):
                return text
    unsupported = "" if parsed is not None else " (a construct the regex writer cannot read)"
    reserves: dict[int, tuple[Any, list[int]]] = {}  # shared by the attempts
    for attempt in range(RETRIES * 2 if parsed is not None else 0):
        budget.tick(path)
        # Alternate free repeats (growing spread) with aiming at a length in range.
        target = None if attempt % 2 == 0 else gen.rng.randint(lo, min(hi, lo + 16))
        writer = RegexWriter(gen.rng, 4 << (attempt // 8), target, hi, budget, path, reserves)
        try:
            written = writer.write(parsed)
        except Unsupported as exc:
            unsupported = f" (unsupported regex construct {exc})"
            break
        budget.spend(len(written) + max(0, lo - len(written)), path)  # with _pad's letters
        text = pad(written, parsed, lo, gen.rng)
        if ok(text):
            return text
    for _ in range(RETRIES):  # last resort for constructs the writer skips: plain words
        budget.tick(path)
        text = gen.faker.word()
        budget.spend(len(text), path)
        if ok(text):
            return text
    raise fail(path, f"no string found for 'pattern' {pattern!r}{unsupported}")
