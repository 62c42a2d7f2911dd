"""Writing strings that a `pattern` matches, from Python's own parse of the regex.

The writer covers classes, groups, alternation, repeats and backreferences, not lookaround or
conditionals (`Unsupported`); the caller checks every string with `re.search`, as jsonschema
does, so a construct it gets wrong costs a retry, never an invalid value. Characters outside a
class are drawn from printable ASCII.
"""

from __future__ import annotations

import functools
import importlib
import random
import re
import string
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from emulator.jsongen.patterns import Untranslatable, compile_pattern, writable

if TYPE_CHECKING:
    from emulator.jsongen.budget import Budget

# The stdlib regex parser, to write strings matching `pattern`. It is private, but stable since
# Python 3.0 (hypothesis uses it too); `sre_parse`, its old name, warns from 3.11 on.
_sre: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

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


class Unsupported(Exception):
    """A regex construct the writer cannot produce text for (lookaround, conditionals)."""


@functools.lru_cache(maxsize=256)
def parse_pattern(pattern: str) -> tuple[Any, Any]:
    """The compiled pattern (what a generated string is checked with) and the parse tree the
    writer walks, None when Python's parser cannot read even the `writable` form.

    check_schema has already rejected patterns that no engine compiles.
    """
    compiled = compile_pattern(pattern)
    try:
        parsed = _sre.parse(writable(pattern))
    except (Untranslatable, re.error, OverflowError, RecursionError):
        parsed = None
    return compiled, parsed


@functools.lru_cache(maxsize=256)
def pattern_width(pattern: str) -> int:
    """The fewest characters a string matching `pattern` has (a lower bound; 0 if unknown)."""
    parsed = parse_pattern(pattern)[1]
    return 0 if parsed is None else _seq_width(parsed)


_CHAR_OPS = frozenset(["LITERAL", "NOT_LITERAL", "ANY", "IN"])


class RegexWriter:
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
        budget: Budget,
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
            raise Unsupported(op)

    def check(self) -> None:
        if len(self.buf) + self.extra > self.cap:
            raise self.budget.out_of_chars(self.path)
        self.budget.afford(len(self.buf) + self.extra)

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
        self.budget.afford(len(buf) + self.extra + low)
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
                raise Unsupported("IN")
            return self.rng.choice(known[1])
        op, arg = self.rng.choice(items)
        if op.name == "LITERAL":
            return chr(arg)
        if op.name == "RANGE":
            return chr(self.rng.randint(arg[0], arg[1]))
        if op.name == "CATEGORY":
            return self.rng.choice(_CATEGORIES[arg.name])
        raise Unsupported(op.name)


def pad(text: str, parsed: Any, lo: int, rng: random.Random) -> str:
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
