"""Request bytes -> a JSON object, or a 400 that says exactly what is wrong with the body, in
the envelope of a schema problem: `metadata.errors` holds one error at path "" (the body).

Size limits (413) are enforced before this runs, by the HTTP layer.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any, NoReturn

from .errors import RequestError

CONTENT_TYPE_MESSAGE = "Content-Type must be application/json"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

_JSON_TYPE_NAMES = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


class _NonFiniteNumber(ValueError):
    """Raised from the decoder's parse_constant hook; JSON has no NaN or Infinity."""


class _NumberTooLarge(ValueError):
    """Raised from the decoder's parse_float hook for a number beyond a double (1e400)."""


def parse_json_body(raw: bytes, content_type: str | None, *, max_depth: int = 64) -> dict[str, Any]:
    """The request body as a dict; raises RequestError(400, ...) naming the first thing wrong."""
    if not raw.strip():
        _reject("request body is empty")
    if not is_json_content_type(content_type):
        got = (
            f"got {content_type.strip()!r}" if content_type and content_type.strip() else "got none"
        )
        _reject(f"{CONTENT_TYPE_MESSAGE} ({got})")
    text = _decode(raw)
    value = _loads(text)
    if not isinstance(value, dict):
        _reject(f"request body must be a JSON object, got {_JSON_TYPE_NAMES[type(value)]}")
    # Counting brackets runs at C speed and rules out deep nesting for almost every body.
    if text.count("[") + text.count("{") > max_depth and _depth_exceeds(value, max_depth):
        _reject(f"request body is nested too deeply (more than {max_depth} levels)")
    # A \uD800-\uDFFF escape is rare; only then look for one left unpaired.
    if _SURROGATE_ESCAPE.search(text):
        _reject_lone_surrogates(value)
    return value


def is_json_content_type(content_type: str | None) -> bool:
    """application/json or any application/*+json, parameters such as charset ignored."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media_type.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def _reject(message: str) -> NoReturn:
    # The same shape as a schema problem: one error at the body itself (path "").
    raise RequestError(400, message, {"errors": [{"path": "", "message": message}]})


def _decode(raw: bytes) -> str:
    try:
        # utf-8-sig: RFC 8259 lets a parser ignore a leading byte order mark, so we do.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _reject(f"request body is not valid UTF-8 (bad byte at offset {exc.start})")


def _reject_constant(name: str) -> NoReturn:
    raise _NonFiniteNumber(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NumberTooLarge(text if len(text) <= 40 else text[:37] + "...")
    return value


def _loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except _NonFiniteNumber as exc:
        _reject(f"request body is not valid JSON (NaN/Infinity are not allowed; found {exc})")
    except _NumberTooLarge as exc:
        _reject(f"request body has a number too large to represent: {exc}")
    except json.JSONDecodeError as exc:
        _reject(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        )
    except RecursionError:
        # The C decoder recurses once per level; thousands of levels end up here.
        _reject("request body is nested too deeply")
    except ValueError:
        # An integer literal of more than sys.get_int_max_str_digits() digits (4300): Python
        # refuses to convert it. Valid JSON, but no client means it.
        limit = sys.get_int_max_str_digits()
        _reject(f"request body has a number too large to represent (more than {limit} digits)")


def _reject_lone_surrogates(value: Any) -> None:
    """JSON may escape half of a UTF-16 pair on its own (`"\\ud83d"`, often a string cut in
    the middle of an emoji); that is not text, and nothing can encode it. Name where it is."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                _check_text(key, path, "a key with ")
                stack.append((child, (*path, key)))
        elif isinstance(node, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(node))
        elif isinstance(node, str):
            _check_text(node, path, "")


def _check_text(text: str, path: tuple[str | int, ...], what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # Imported here: the JSON gate's process imports this module and nothing heavy.
        from .validation import format_path

        where = format_path(path) or "the body"
        code = f"\\u{ord(text[exc.start]):04x}"
        _reject(
            f"request body is not valid Unicode: {where} has {what}an unpaired surrogate {code}"
        )


def _depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether containers nest deeper than `max_depth` (the body itself is level 1); walked one
    level at a time, with no recursion (a deep body cannot exhaust Python's recursion limit)
    and no object per node (a tuple per node made the garbage collector's passes over millions
    of them the dominant cost)."""
    level: list[Any] = [value]
    depth = 1
    while level:
        if depth > max_depth:
            return True
        deeper: list[Any] = []
        append = deeper.append
        for node in level:
            if node:  # most nodes of a hostile body are empty: skip them cheaply
                for child in node.values() if isinstance(node, dict) else node:
                    if isinstance(child, (dict, list)):
                        append(child)
        level = deeper
        depth += 1
    return False


DECODED_CONTENT_ENCODINGS = ("identity", "gzip", "deflate")


def check_content_encoding(header: str | None) -> None:
    """Raise RequestError 415 when a request's Content-Encoding header names a coding the server
    does not decode (anything but identity, gzip or deflate, e.g. `br`, `zstd`, a list of codings),
    rather than reading the still-encoded bytes as JSON. HTTP's rule (RFC 9110, 415 Unsupported
    Media Type for an unsupported content coding)."""
    encoding = (header or "").strip().lower()
    if encoding and encoding not in DECODED_CONTENT_ENCODINGS:
        raise RequestError(415, unsupported_encoding_message(encoding))


def unsupported_encoding_message(encoding: str) -> str:
    """The 415 message for a Content-Encoding the server does not decode, naming those it does."""
    return (
        f"Content-Encoding {encoding!r} is not supported: send the body uncompressed or as "
        + ", ".join(DECODED_CONTENT_ENCODINGS[1:])
    )
