"""A small, safe template language for reply text: `{{ expr }}` over plain data.

Grammar of `expr` (whitespace allowed around tokens):

    expr    := (path | literal) ("|" filter)*
    path    := root ("." name | "[" int "]" | "[" literal "]")*
    literal := '...' | "..."          (no escapes; `{{ '{{' }}` writes a literal "{{")
    filter  := upper | lower | json

Roots: `request` (fields below), `call_number`, `scenario.name`, and `faker.<method>` for a
whitelist of zero-argument Faker providers called on the seeded Faker passed to `render`.
Names may not start with `_`. Lookups walk only dict keys and list indexes (negative indexes count
from the end) of the context built by `template_context`: there is no eval and no attribute
access into Python objects. A missing value (absent key, index out of range, JSON null) renders as
"" ; strings render as they are, other values (numbers, booleans, lists, dicts) as compact JSON.
A lone `}}` is ordinary text, so JSON content needs no escaping.

Output is capped at MAX_OUTPUT_CHARS: a template that echoes request data many times grows with
the request, and rendering stops (TemplateTooLarge) as soon as the cap is passed, so the work
done is bounded by the cap plus one expression's value, whatever the template and the request.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker

    from .chatrequest import ChatRequest

# Fixed bounds keep date-like values independent of today's date (Faker's own `date()` is not).
_START = dt.datetime(2000, 1, 1)
_END = dt.datetime(2030, 12, 31, 23, 59, 59)


def _simple(method: str) -> Callable[[Faker], str]:
    return lambda faker: str(getattr(faker, method)())


FAKER_METHODS: Mapping[str, Callable[[Faker], str]] = {
    **{
        m: _simple(m)
        for m in (
            "address",
            "catch_phrase",
            "city",
            "color_name",
            "company",
            "country",
            "country_code",
            "currency_code",
            "domain_name",
            "email",
            "file_name",
            "first_name",
            "hex_color",
            "ipv4",
            "job",
            "last_name",
            "name",
            "paragraph",
            "phone_number",
            "postcode",
            "sentence",
            "street_address",
            "text",
            "url",
            "user_name",
            "uuid4",
            "word",
        )
    },
    "date": lambda f: f.date_between_dates(_START.date(), _END.date()).isoformat(),
    "iso8601": lambda f: f.date_time_between_dates(_START, _END).isoformat(),
    "time": lambda f: f.date_time_between_dates(_START, _END).strftime("%H:%M:%S"),
}

# request.<field>: the fields `template_context` provides; only CONTAINERS take sub-paths.
REQUEST_FIELDS = (
    "body",
    "last_user_message",
    "messages",
    "model",
    "stream",
    "system_message",
    "tool_choice",
    "tool_names",
)
_CONTAINERS = ("body", "messages", "tool_names")
ROOTS = ("call_number", "faker", "request", "scenario")
FILTERS: Mapping[str, Callable[[str, Any], str]] = {
    "upper": lambda text, _value: text.upper(),
    "lower": lambda text, _value: text.lower(),
    "json": lambda _text, value: json.dumps(value, ensure_ascii=False, separators=(",", ":")),
}

MAX_OUTPUT_CHARS = 4 * 1024 * 1024

Key = str | int
_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<int>-?\d+)|'(?P<sq>[^']*)'|\"(?P<dq>[^\"]*)\""
    r"|(?P<punct>[.\[\]|]))"
)


class TemplateTooLarge(ValueError):
    """A template's output passed `limit` characters (`MAX_OUTPUT_CHARS` unless given)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the template's output passes {limit:,} characters, the limit of rendered text"
        )
        self.limit = limit


@dataclass(frozen=True)
class _Expr:
    """One `{{ ... }}`: a literal, or a path of keys from a root, then filters."""

    literal: str | None
    path: tuple[Key, ...]
    filters: tuple[str, ...]

    def value(self, context: Mapping[str, Any], faker: Faker | None) -> Any:
        if self.literal is not None:
            return self.literal
        if self.path[0] == "faker":
            if faker is None:
                raise ValueError("this template uses faker, but no Faker was given")
            return FAKER_METHODS[str(self.path[1])](faker)
        return _walk(context, self.path)

    def render(self, context: Mapping[str, Any], faker: Faker | None) -> str:
        value = self.value(context, faker)
        text = _to_text(value)
        for name in self.filters:
            text = FILTERS[name](text, value)
            value = text
        return text


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and expressions, in order."""

    source: str
    parts: tuple[str | _Expr, ...]

    @property
    def is_static(self) -> bool:
        """True when the template has no expression that depends on the request or on Faker."""
        return all(isinstance(p, str) or p.literal is not None for p in self.parts)

    def render(
        self,
        context: Mapping[str, Any],
        faker: Faker | None = None,
        limit: int = MAX_OUTPUT_CHARS,
    ) -> str:
        """The text with each expression replaced by its value in `context` (or from `faker`).

        Raises TemplateTooLarge as soon as the output passes `limit` characters.
        """
        out: list[str] = []
        size = 0
        for part in self.parts:
            text = part if isinstance(part, str) else part.render(context, faker)
            size += len(text)
            if size > limit:
                raise TemplateTooLarge(limit)
            out.append(text)
        return "".join(out)


def _walk(data: Any, path: tuple[Key, ...]) -> Any:
    for key in path:
        if isinstance(key, int):
            if not isinstance(data, list) or not -len(data) <= key < len(data):
                return None
            data = data[key]
        elif isinstance(data, Mapping):
            data = data.get(key)
        else:
            return None
    return data


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@functools.lru_cache(maxsize=1024)
def parse_template(text: str) -> Template:
    """Parse `text`; ValueError with the column and what is wrong on any mistake (cached)."""
    parts: list[str | _Expr] = []
    pos = 0
    while (start := text.find("{{", pos)) != -1:
        end = text.find("}}", start + 2)
        if end == -1:
            raise ValueError(
                f"unclosed '{{{{' at column {start + 1}; "
                f"write {{{{ '{{{{' }}}} for a literal '{{{{'"
            )
        if start > pos:
            parts.append(text[pos:start])
        parts.append(_parse_expr(text[start + 2 : end], start + 1))
        pos = end + 2
    if pos < len(text):
        parts.append(text[pos:])
    return Template(text, tuple(parts))


def render_text(text: str, context: Mapping[str, Any], faker: Faker | None = None) -> str:
    """Render a template string (parsed once and cached); text without `{{` comes back as is.

    Raises TemplateTooLarge past MAX_OUTPUT_CHARS characters of output."""
    if "{{" not in text:
        return text
    return parse_template(text).render(context, faker)


def _tokens(expr: str, column: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN.match(expr, pos)
        if m is None:
            bad = expr[pos:].strip()[:1]
            raise ValueError(f"unexpected character {bad!r} in {{{{{expr}}}}} at column {column}")
        kind = m.lastgroup or ""
        out.append(("str" if kind in ("sq", "dq") else kind, m.group(kind)))
        pos = m.end()
    return out


def _parse_expr(expr: str, column: int) -> _Expr:
    where = f"in {{{{{expr}}}}} at column {column}"
    tokens = _tokens(expr, column)
    if not tokens:
        raise ValueError(f"empty expression {where}")
    try:
        pipe = tokens.index(("punct", "|"))
    except ValueError:
        pipe = len(tokens)
    filters = _parse_filters(tokens[pipe:], where)
    head = tokens[:pipe]
    if len(head) == 1 and head[0][0] == "str":
        return _Expr(head[0][1], (), filters)
    return _Expr(None, _check_path(_parse_path(head, where), where), filters)


def _parse_filters(tokens: list[tuple[str, str]], where: str) -> tuple[str, ...]:
    names: list[str] = []
    for i in range(0, len(tokens), 2):
        pair = tokens[i : i + 2]
        if len(pair) != 2 or pair[0] != ("punct", "|") or pair[1][0] != "name":
            raise ValueError(f"expected '| filter' {where}; filters: {', '.join(FILTERS)}")
        if pair[1][1] not in FILTERS:
            raise ValueError(
                f"unknown filter {pair[1][1]!r} {where}; "
                f"valid filters: {', '.join(sorted(FILTERS))}"
            )
        names.append(pair[1][1])
    return tuple(names)


def _parse_path(tokens: list[tuple[str, str]], where: str) -> tuple[Key, ...]:
    if not tokens or tokens[0][0] != "name":
        raise ValueError(f"expected a name or a quoted text {where}")
    path: list[Key] = [_name(tokens[0][1], where)]
    i = 1
    while i < len(tokens):
        if tokens[i] == ("punct", ".") and i + 1 < len(tokens) and tokens[i + 1][0] == "name":
            path.append(_name(tokens[i + 1][1], where))
            i += 2
        elif (
            tokens[i] == ("punct", "[") and i + 2 < len(tokens) and tokens[i + 2] == ("punct", "]")
        ):
            kind, value = tokens[i + 1]
            if kind not in ("int", "str"):
                raise ValueError(f"expected an integer or a quoted key inside [...] {where}")
            path.append(int(value) if kind == "int" else value)
            i += 3
        else:
            raise ValueError(f"unexpected {tokens[i][1]!r} {where}")
    return tuple(path)


def _name(name: str, where: str) -> str:
    if name.startswith("_"):
        raise ValueError(f"name {name!r} is not allowed {where}: names may not start with '_'")
    return name


def _check_path(path: tuple[Key, ...], where: str) -> tuple[Key, ...]:
    root, rest = path[0], path[1:]
    if root not in ROOTS:
        raise ValueError(f"unknown name {root!r} {where}; valid names: {', '.join(ROOTS)}")
    if root == "call_number" and rest:
        raise ValueError(f"call_number is a number and has no fields {where}")
    if root == "scenario" and rest != ("name",):
        raise ValueError(f"use scenario.name {where}: it is the only field of scenario")
    if root == "faker":
        _check_faker(rest, where)
    if root == "request":
        _check_request(rest, where)
    return path


def _check_faker(rest: tuple[Key, ...], where: str) -> None:
    valid = ", ".join(sorted(FAKER_METHODS))
    if len(rest) != 1 or rest[0] not in FAKER_METHODS:
        shown = ".".join(str(k) for k in rest) or "(nothing)"
        raise ValueError(f"faker.{shown} is not an allowed Faker method {where}; allowed: {valid}")


def _check_request(rest: tuple[Key, ...], where: str) -> None:
    if not rest or rest[0] not in REQUEST_FIELDS:
        shown = f"request.{rest[0]}" if rest else "request"
        raise ValueError(
            f"unknown field {shown!r} {where}; valid fields: "
            + ", ".join(f"request.{f}" for f in REQUEST_FIELDS)
        )
    if len(rest) > 1 and rest[0] not in _CONTAINERS:
        raise ValueError(f"request.{rest[0]} has no fields or indexes {where}")


def template_context(
    request: ChatRequest, call_number: int, scenario_name: str | None
) -> dict[str, Any]:
    """The plain data templates read: the request's facts, the call number and the scenario."""
    return {
        "request": {
            "model": request.model,
            "stream": request.stream,
            "messages": list(request.messages),
            "last_user_message": request.last_user_message,
            "system_message": request.system_message,
            "tool_names": list(request.tool_names),
            "tool_choice": request.tool_choice,
            "body": dict(request.body),
        },
        "call_number": call_number,
        "scenario": {"name": scenario_name},
    }
