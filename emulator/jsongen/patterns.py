"""`pattern` as JSON Schema means it: ECMA-262 regexes, including Unicode property classes.

Python's `re` reads most patterns the same way; what it cannot compile (`\\p{L}`, `\\p{Lu}`,
`(?<name>...)`, as zod and other clients emit for Unicode-aware checks) is compiled with the
`regex` package, which implements them. `compile_pattern` is what every check of a generated
value uses, so that such a pattern is checked, never rejected as invalid.

To write strings, the regex writer needs Python's own parse tree: `writable` rewrites each
Unicode property class into a few characters of that class (`\\p{Lu}` → `[A-Z]`), a subset, so
a string written from it matches the original pattern; the caller still checks that it does.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import regex  # type: ignore[import-untyped]

# Characters of each Unicode property (general category, script or binary property): enough
# to write varied text, all inside the property (a subset), as bodies of a character class.
_PROPERTIES = {
    "L": "A-Za-z", "Letter": "A-Za-z", "Alphabetic": "A-Za-z", "Alpha": "A-Za-z",
    "L&": "A-Za-z", "LC": "A-Za-z", "Cased_Letter": "A-Za-z",
    "Lu": "A-Z", "Uppercase_Letter": "A-Z", "Uppercase": "A-Z", "Upper": "A-Z",
    "Ll": "a-z", "Lowercase_Letter": "a-z", "Lowercase": "a-z", "Lower": "a-z",
    "Lt": "\u01c5\u01c8\u01cb", "Titlecase_Letter": "\u01c5\u01c8\u01cb",
    "Lm": "\u02b0-\u02b8", "Modifier_Letter": "\u02b0-\u02b8",
    "Lo": "\u05d0-\u05ea", "Other_Letter": "\u05d0-\u05ea",
    "N": "0-9", "Number": "0-9", "Nd": "0-9", "Decimal_Number": "0-9", "digit": "0-9",
    "Nl": "\u2160-\u2168", "Letter_Number": "\u2160-\u2168",
    "No": "\u00bc-\u00be", "Other_Number": "\u00bc-\u00be",
    "P": ".,!?;:", "Punctuation": ".,!?;:", "punct": ".,!?;:",
    "Pd": "\\-", "Dash_Punctuation": "\\-", "Ps": "([{", "Open_Punctuation": "([{",
    "Pe": ")\\]}", "Close_Punctuation": ")\\]}", "Pc": "_", "Connector_Punctuation": "_",
    "Pi": "\u00ab", "Initial_Punctuation": "\u00ab", "Pf": "\u00bb", "Final_Punctuation": "\u00bb",
    "Po": ".,!?", "Other_Punctuation": ".,!?",
    "S": "$+<=>|~", "Symbol": "$+<=>|~", "Sm": "+<=>|~", "Math_Symbol": "+<=>|~",
    "Sc": "$\u00a3\u20ac", "Currency_Symbol": "$\u00a3\u20ac",
    "Sk": "\\^`", "Modifier_Symbol": "\\^`",
    "So": "\u00a9\u00ae", "Other_Symbol": "\u00a9\u00ae",
    "Z": " ", "Separator": " ", "Zs": " ", "Space_Separator": " ",
    "White_Space": " ", "space": " ",
    "Latin": "A-Za-z", "Latn": "A-Za-z", "Greek": "\u03b1-\u03c9", "Grek": "\u03b1-\u03c9",
    "Cyrillic": "\u0430-\u044f", "Cyrl": "\u0430-\u044f",
    "Han": "\u4e00-\u4e8c", "Hani": "\u4e00-\u4e8c",
    "Hiragana": "\u3041-\u3093", "Hira": "\u3041-\u3093", "Katakana": "\u30a1-\u30f3",
    "Kana": "\u30a1-\u30f3", "Arabic": "\u0627-\u064a", "Arab": "\u0627-\u064a",
    "Hebrew": "\u05d0-\u05ea", "Hebr": "\u05d0-\u05ea", "Hangul": "\uac00-\uac10",
    "Hang": "\uac00-\uac10", "Thai": "\u0e01-\u0e2e", "Devanagari": "\u0915-\u0939",
    "Deva": "\u0915-\u0939",
    "Emoji": "\U0001f600-\U0001f64f", "Emoji_Presentation": "\U0001f600-\U0001f64f",
    "Extended_Pictographic": "\U0001f600-\U0001f64f",
    "ASCII": "A-Za-z0-9", "Any": "A-Za-z0-9",
}  # fmt: skip


class Untranslatable(ValueError):
    """A pattern the writer cannot read (an unknown property, a negated one inside a class)."""


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """The compiled pattern, searched as jsonschema's `pattern` does (re.search semantics).

    Python's `re` when it reads the pattern, else the `regex` package (Unicode properties,
    `(?<name>...)`). Raises `re.error` for a pattern neither reads.
    """
    try:
        return re.compile(pattern)
    except re.error:
        try:
            return regex.compile(pattern)
        except regex.error as exc:
            raise re.error(str(exc)) from None


def is_regex(pattern: object) -> bool:
    """The metaschema's `format: regex`: whether `compile_pattern` reads `pattern`."""
    if not isinstance(pattern, str):
        return True
    try:
        compile_pattern(pattern)
    except re.error:
        return False
    return True


def writable(pattern: str) -> str:
    """`pattern` in the syntax of Python's parser: Unicode property classes become classes
    of some of their characters, `(?<name>` becomes `(?P<name>`; Untranslatable otherwise."""
    out: list[str] = []
    in_class = False
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\" and i + 1 < n:
            follow = pattern[i + 1]
            if follow in "pP":
                body, i = _property(pattern, i + 2)
                out.append(_class_text(body, follow == "P", in_class))
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            out.append(char)
            i += 1
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i : i + 1] == "]":  # a leading ] is a literal
                out.append("\\]")
                i += 1
            continue
        elif pattern.startswith("(?<", i) and pattern[i + 3 : i + 4] not in ("=", "!"):
            out.append("(?P<")
            i += 3
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _property(pattern: str, start: int) -> tuple[str, int]:
    """The class body of the property named at `start` (`{Lu}` or `L`), and where it ends."""
    if pattern[start : start + 1] == "{":
        end = pattern.find("}", start)
        if end < 0:
            raise Untranslatable("an unterminated \\p{")
        name, after = pattern[start + 1 : end], end + 1
    else:
        name, after = pattern[start : start + 1], start + 1
    name = name.split("=")[-1].strip()
    body = _PROPERTIES.get(name) or _PROPERTIES.get(name.removeprefix("Is"))
    if body is None:
        raise Untranslatable(f"the Unicode property {name!r}")
    return body, after


def _class_text(body: str, negated: bool, in_class: bool) -> str:
    if in_class:
        if negated:
            raise Untranslatable("a negated Unicode property inside a class")
        return body
    return f"[^{body}]" if negated else f"[{body}]"
