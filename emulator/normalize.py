"""Normalisation before matching: the request texts a scenario matches on, and the scenario's
own expected values, pass through the same rewrites, so cosmetic differences (spacing, the key
order of a JSON tool argument, an id or a timestamp that changes every run) do not decide a
match.

Three rewrites, applied in this order to every message text (string content and text parts),
tool-call `function.arguments`, the legacy `prompt`, the last tool result's id and content, and
to the `equals`/`contains` operands and `body` strings of the scenario:

- `json`: a text that is a JSON object or array is re-serialised with sorted keys, compactly;
- `volatile`: each pattern's matches become its placeholder (built-ins: `uuid`, `timestamp`,
  `id`; or any regex);
- `whitespace`: runs of white space become one space, and the ends are trimmed.

Pure: no I/O. Regexes are compiled once per option set.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .chatrequest import ChatRequest
from .scenario import Match, TextMatcher, TurnMatch

# Built-in volatile patterns: name → (regex, placeholder).
VOLATILE = {
    "uuid": (
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
        "<uuid>",
    ),
    "timestamp": (
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
        r"|\b1\d{9}(?:\d{3})?\b",
        "<timestamp>",
    ),
    "id": (r"\b(?:call|toolu|gen|chatcmpl|msg|req|resp|run)[-_][A-Za-z0-9_-]{6,}", "<id>"),
}
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Normalize:
    """Which rewrites apply; `volatile` holds (regex, placeholder) pairs, in order."""

    whitespace: bool = False
    json: bool = False
    volatile: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return self.whitespace or self.json or bool(self.volatile)


ALL = Normalize(True, True, tuple(VOLATILE.values()))


@functools.lru_cache(maxsize=64)
def _patterns(volatile: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern), placeholder) for pattern, placeholder in volatile)


def text(value: str, norm: Normalize) -> str:
    """`value` after the rewrites of `norm`."""
    if norm.json:
        value = _canonical_json(value)
    for pattern, placeholder in _patterns(norm.volatile):
        value = pattern.sub(placeholder, value)
    if norm.whitespace:
        value = _SPACE.sub(" ", value).strip()
    return value


def _canonical_json(value: str) -> str:
    stripped = value.strip()
    if not stripped or stripped[0] not in "[{":
        return value
    try:
        parsed = json.loads(stripped)
    except ValueError:
        return value
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _content(content: Any, norm: Normalize) -> Any:
    if isinstance(content, str):
        return text(content, norm)
    if isinstance(content, list):
        return [
            {**part, "text": text(part["text"], norm)}
            if isinstance(part, dict) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
    return content


def _call(call: Any, norm: Normalize) -> Any:
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
        return call
    fn = call["function"]
    if not isinstance(fn.get("arguments"), str):
        return call
    return {**call, "function": {**fn, "arguments": text(fn["arguments"], norm)}}


def _message(message: Any, norm: Normalize) -> Any:
    if not isinstance(message, dict):
        return message
    out = dict(message)
    if "content" in out:
        out["content"] = _content(out["content"], norm)
    if isinstance(out.get("tool_calls"), list):
        out["tool_calls"] = [_call(c, norm) for c in out["tool_calls"]]
    return out


def request(chat: ChatRequest, norm: Normalize) -> ChatRequest:
    """A copy of `chat` whose texts are normalised (ids linking calls to results are kept, so
    turn facts stay right; `matching` normalises the tool result's id itself)."""
    body = dict(chat.body)
    if isinstance(body.get("messages"), list):
        body["messages"] = [_message(m, norm) for m in body["messages"]]
    if isinstance(body.get("prompt"), str):
        body["prompt"] = text(body["prompt"], norm)
    return ChatRequest(body, chat.headers, chat.api_key)


def _matcher(matcher: TextMatcher | None, norm: Normalize) -> TextMatcher | None:
    if matcher is None or matcher.op not in ("equals", "contains") or matcher.value is None:
        return matcher
    return TextMatcher(matcher.op, text(matcher.value, norm))


def _value(value: Any, norm: Normalize) -> Any:
    if isinstance(value, str):
        return text(value, norm)
    if isinstance(value, Mapping):
        return {k: _value(v, norm) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v, norm) for v in value]
    return value


def match(wanted: Match, norm: Normalize) -> Match:
    """`wanted` with its message-text operands normalised the way requests are."""
    turn: TurnMatch | None = wanted.turn
    if turn is not None:
        turn = replace(
            turn,
            tool_call_id=_matcher(turn.tool_call_id, norm),
            tool_content=_matcher(turn.tool_content, norm),
        )
    return replace(
        wanted,
        last_user_message=_matcher(wanted.last_user_message, norm),
        system_message=_matcher(wanted.system_message, norm),
        any_message=_matcher(wanted.any_message, norm),
        body=_value(wanted.body, norm) if wanted.body is not None else None,
        turn=turn,
    )


def parse(value: Any) -> Normalize:
    """The model of a `normalize` option: `true` (every rewrite, built-in patterns), `false`,
    a list of rewrite names, or a mapping {whitespace, json, volatile} where `volatile` is
    true, a list of built-in names, or {pattern: placeholder} pairs. Raises ValueError naming
    what is wrong (the loader and the CLI add where)."""
    if value is True:
        return ALL
    if value is False or value is None:
        return Normalize()
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        unknown = [v for v in value if v not in ("whitespace", "json", "volatile")]
        if unknown:
            raise ValueError(
                f"unknown rewrite(s) {', '.join(map(repr, unknown))}; valid: whitespace, json, "
                "volatile"
            )
        value = dict.fromkeys(value, True)
    if not isinstance(value, Mapping):
        raise ValueError("expected true, a list of rewrites, or a mapping")
    return Normalize(
        whitespace=bool(value.get("whitespace", False)),
        json=bool(value.get("json", False)),
        volatile=_volatile(value.get("volatile", False)),
    )


def _volatile(value: Any) -> tuple[tuple[str, str], ...]:
    if value is True:
        return tuple(VOLATILE.values())
    if value is False or value is None:
        return ()
    pairs: list[tuple[str, str]] = []
    items = value.items() if isinstance(value, Mapping) else [(v, None) for v in value]
    for name, placeholder in items:
        if placeholder is None:
            if name not in VOLATILE:
                raise ValueError(
                    f"unknown volatile pattern {name!r}; valid: {', '.join(VOLATILE)} "
                    "(or a mapping of regex to placeholder)"
                )
            pairs.append(VOLATILE[name])
            continue
        try:
            re.compile(name)
        except re.error as exc:
            raise ValueError(f"bad volatile regex {name!r}: {exc}") from None
        pairs.append((str(name), str(placeholder)))
    return tuple(pairs)
