"""Does a request satisfy a scenario's `match` block? Every criterion is checked, and each one that
fails contributes a reason a person can act on (for strict-mode 404s and teardown reports).

Operators on text: `equals`, `contains`, `regex` (a search on RE2, linear time: `emulator.regex`),
`glob` (`fnmatch.fnmatchcase`, case-sensitive) and `absent` (the value is missing). A missing
value fails every operator except `absent`. `body` is a recursive subset match: every key of an
expected mapping must be present in the request with a matching value (extra request keys are
fine); lists must be equal item by item (same length, each item matched the same way); scalars
must be equal, and booleans never equal numbers (`true` is not `1`), while `0` equals `0.0`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .chatrequest import ChatRequest
from .normalize import Normalize
from .regex import compile_regex
from .scenario import Match, TextMatcher
from .turns import request_turns, turn_reasons

MAX_SHOWN = 60

_VERBS = {"equals": "equal", "contains": "contain", "regex": "match regex", "glob": "match glob"}
_THIRD_PERSON = {
    "equals": "equals",
    "contains": "contains",
    "regex": "matches regex",
    "glob": "matches glob",
}


@dataclass(frozen=True)
class MatchResult:
    """`ok` when every criterion holds; else `reasons` says why, a line per failed criterion."""

    ok: bool
    reasons: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.ok


def shorten(value: Any, limit: int = MAX_SHOWN) -> str:
    """`repr` of a value, its text cut to `limit` characters with '...' so reasons stay one line."""
    if isinstance(value, str) and len(value) > limit:
        value = value[: limit - 3] + "..."
    return repr(value)


def text_holds(matcher: TextMatcher, value: str | None) -> bool:
    """Whether `value` (None: missing) satisfies `matcher`."""
    if matcher.op == "absent":
        return value is None
    if value is None:
        return False
    expected = matcher.value or ""
    if matcher.op == "equals":
        return value == expected
    if matcher.op == "contains":
        return expected in value
    if matcher.op == "regex":
        return compile_regex(expected).search(value) is not None
    if matcher.op == "glob":
        return fnmatch.fnmatchcase(value, expected)
    raise ValueError(f"unknown text operator {matcher.op!r}")


def _text_reason(
    label: str, matcher: TextMatcher, value: str | None, shown: Callable[[], str]
) -> str | None:
    if text_holds(matcher, value):
        return None
    if matcher.op == "absent":
        return f"{label} is present (was: {shown()}), expected absent"
    verb = _VERBS.get(matcher.op, matcher.op)
    if value is None:
        return f"{label} is missing, expected to {verb} {shorten(matcher.value)}"
    return f"{label} does not {verb} {shorten(matcher.value)} (was: {shown()})"


def _text(label: str, matcher: TextMatcher | None, value: str | None) -> list[str]:
    if matcher is None:
        return []
    reason = _text_reason(label, matcher, value, lambda: shorten(value))
    return [reason] if reason else []


def _api_key(matcher: TextMatcher | None, key: str | None) -> list[str]:
    if matcher is None:
        return []

    # Show only a prefix of the key the client sent: reasons end up in logs and reports.
    def shown() -> str:
        return repr(key[:8] + "...") if key is not None and len(key) > 8 else repr(key)

    reason = _text_reason("api_key", matcher, key, shown)
    return [reason] if reason else []


def _any_message(matcher: TextMatcher | None, texts: list[str]) -> list[str]:
    if matcher is None:
        return []
    if matcher.op == "absent":
        return [] if not texts else [f"any_message: the request has {len(texts)} message(s)"]
    if any(text_holds(matcher, t) for t in texts):
        return []
    verb = _THIRD_PERSON.get(matcher.op, matcher.op)
    return [f"no message {verb} {shorten(matcher.value)} ({len(texts)} message(s))"]


def _headers(wanted: tuple[tuple[str, TextMatcher], ...], headers: Mapping[str, str]) -> list[str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    return [
        reason
        for name, matcher in wanted
        for reason in _text(f"header {name!r}", matcher, lowered.get(name.lower()))
    ]


def _flag(label: str, expected: bool | None, actual: bool) -> list[str]:
    if expected is None or expected == actual:
        return []
    return [f"{label} is {str(actual).lower()}, expected {str(expected).lower()}"]


def _tools(wanted: tuple[str, ...] | None, offered: tuple[str, ...]) -> list[str]:
    if wanted is None:
        return []
    missing = [name for name in wanted if name not in offered]
    if not missing:
        return []
    shown = ", ".join(offered) if offered else "none"
    return [f"the request does not offer tool(s) {', '.join(missing)} (offered: {shown})"]


def _equal_choice(label: str, expected: str | None, actual: str | None) -> list[str]:
    if expected is None or expected == actual:
        return []
    was = shorten(actual) if actual is not None else "absent"
    return [f"{label} is {was}, expected {expected!r}"]


def _has_tool_result(expected: bool | None, actual: bool) -> list[str]:
    if expected is None or expected == actual:
        return []
    return [
        "the last message is a tool result" if actual else "the last message is not a tool result"
    ]


def _same_scalar(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    return bool(expected == actual)


def subset_reasons(expected: Any, actual: Any, path: str = "body") -> list[str]:
    """Why `actual` is not a superset of `expected` (dicts: subset; lists, scalars: equal)."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{path} is {shorten(actual)}, expected a mapping"]
        return [
            reason
            for key, value in expected.items()
            for reason in (
                subset_reasons(value, actual[key], f"{path}.{key}")
                if key in actual
                else [f"{path}.{key} is missing, expected {shorten(value)}"]
            )
        ]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path} is {shorten(actual)}, expected {shorten(expected)}"]
        return [
            r
            for i, (e, a) in enumerate(zip(expected, actual, strict=False))
            for r in subset_reasons(e, a, f"{path}[{i}]")
        ]
    if _same_scalar(expected, actual):
        return []
    return [f"{path} is {shorten(actual)}, expected {shorten(expected)}"]


def _response_format(expected: str | None, actual: str | None) -> list[str]:
    # A request without response_format asks for plain text.
    return _equal_choice("response_format", expected, actual or "text")


def _criteria(
    match: Match, request: ChatRequest, norm: Normalize | None = None
) -> Iterator[list[str]]:
    """The reasons of each criterion `match` sets, one list per criterion (empty: it holds),
    worked out one at a time and in order, so a caller can stop at the first that fails.
    With `norm`, `request` and `match` are already normalised (`emulator.normalize`); the last
    tool result's id and content are normalised here, after the call they answer is found."""
    if match.model is not None:
        model = request.body.get("model")
        yield _text("model", match.model, model if isinstance(model, str) else None)
    yield _flag("stream", match.stream, request.stream)
    if match.headers:
        yield _headers(match.headers, request.headers)
    if match.last_user_message is not None:
        yield _text("last_user_message", match.last_user_message, request.last_user_message)
    if match.system_message is not None:
        yield _text("system_message", match.system_message, request.system_message)
    if match.any_message is not None:
        yield _any_message(match.any_message, request.message_texts)
    if match.tools is not None:
        yield _tools(match.tools, request.tool_names)
    if match.tool_choice is not None:
        yield _equal_choice("tool_choice", match.tool_choice, request.tool_choice)
    if match.has_tool_result is not None:
        yield _has_tool_result(match.has_tool_result, request.has_tool_result)
    if match.response_format is not None:
        yield _response_format(match.response_format, request.response_format_type)
    if match.body is not None:
        yield subset_reasons(match.body, request.body)
    if match.api_key is not None:
        yield _api_key(match.api_key, request.api_key)
    if match.turn is not None:
        yield turn_reasons(match.turn, request_turns(request, norm), _text)
    if match.provider is not None:
        yield _provider(match.provider, request.provider, request.provider_tag)
    if match.attempt is not None and match.attempt != request.attempt:
        yield [f"attempt: wanted {match.attempt}, this is attempt {request.attempt}"]


def _provider(matcher: TextMatcher, name: str | None, tag: str | None) -> list[str]:
    """The routed provider, by display name (`DeepInfra`) or slug (`deepinfra/turbo`, or its
    base `deepinfra`)."""
    names = [n for n in (name, tag, tag.partition("/")[0] if tag else None) if n]
    if matcher.op == "absent":
        return [f"provider: wanted none, routed to {name}"] if names else []
    if any(text_holds(matcher, n) for n in names):
        return []
    return _text("provider", matcher, name)


def matches(match: Match, request: ChatRequest, norm: Normalize | None = None) -> bool:
    """Whether every criterion of `match` holds. Stops at the first that fails and words no
    reason: the hot path of selection (reasons are worked out only when someone reads them)."""
    return not any(_criteria(match, request, norm))


def match_request(match: Match, request: ChatRequest, norm: Normalize | None = None) -> MatchResult:
    """Check every criterion of `match` against `request`; collect the reason of each failure
    (`norm`: see `_criteria`)."""
    reasons = [reason for found in _criteria(match, request, norm) for reason in found]
    return MatchResult(not reasons, tuple(reasons))
