"""Checking generated values: one compiled jsonschema validator per distinct schema.

Every value the generator returns is checked against the whole schema (draft 2020-12) with
format checking for exactly the formats it generates (`FORMAT_CHECKER`); the other formats are
annotations, as jsonschema treats them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jsonschema import (  # type: ignore[import-untyped]
    Draft202012Validator,
    FormatChecker,
    validators,
)
from jsonschema.exceptions import (  # type: ignore[import-untyped]
    SchemaError,
    ValidationError,
    best_match,
)
from jsonschema.protocols import Validator  # type: ignore[import-untyped]
from referencing.exceptions import Unresolvable

from emulator.errors import GenerationError
from emulator.jsongen.keywords import pointer
from emulator.jsongen.patterns import compile_pattern, is_regex

_VALIDATOR_CACHE = 256


def _is_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    match = re.fullmatch(r"(\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):(\d\d))", value)
    if match is None:
        return False
    hour, minute, second, off_h, off_m = (int(g or 0) for g in match.groups())
    return hour < 24 and minute < 60 and second <= 60 and off_h < 24 and off_m < 60


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    is_date = Draft202012Validator.FORMAT_CHECKER.conforms(value[:10], "date")
    return is_date and value[10:11] in ("T", "t") and _is_time(value[11:])


def _is_uri(value: object) -> bool:
    pattern = r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*"
    return not isinstance(value, str) or re.fullmatch(pattern, value) is not None


def _is_hostname(value: object) -> bool:
    if not isinstance(value, str):
        return True
    label = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
    name = value.removesuffix(".")
    return 0 < len(name) <= 253 and all(label.fullmatch(part) for part in name.split("."))


def _format_checker() -> FormatChecker:
    """Checks for exactly the formats generated here; jsonschema's own where it has one.

    jsonschema checks date-time, time, uri and hostname only with optional packages, so
    those get strict local checks instead of silently passing anything.
    """
    checker = FormatChecker(formats=())
    builtin = Draft202012Validator.FORMAT_CHECKER.checkers
    for name in ("date", "email", "idn-email", "ipv4", "ipv6", "uuid", "idn-hostname"):
        if name in builtin:
            checker.checkers[name] = builtin[name]
    local: dict[str, Callable[[object], bool]] = {
        "date-time": _is_date_time,
        "time": _is_time,
        "uri": _is_uri,
        "url": _is_uri,
        "hostname": _is_hostname,
    }
    for name, check in local.items():
        checker.checks(name)(check)
    if "idn-hostname" not in checker.checkers:
        checker.checks("idn-hostname")(_is_hostname)
    return checker


FORMAT_CHECKER = _format_checker()


# Regexes as JSON Schema reads them (patterns.compile_pattern, which also takes \p{...}), in
# the keywords that search with them; jsonschema's own would raise on such a pattern.
def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not compile_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if compile_pattern(pattern).search(name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = [compile_pattern(p) for p in schema.get("patternProperties", {})]
    names = [n for n in instance if n not in known and not any(p.search(n) for p in patterns)]
    if validator.is_type(extra, "object"):
        for name in names:
            yield from validator.descend(instance[name], extra, path=name)
    elif not extra and names:
        yield ValidationError(f"Additional properties are not allowed ({names!r} unexpected)")


_Checked = validators.extend(
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)


def _meta_checker() -> FormatChecker:
    checker = FormatChecker()
    checker.checkers.pop("regex", None)
    checker.checks("regex")(is_regex)
    return checker


_META = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=_meta_checker())


@functools.lru_cache(maxsize=_VALIDATOR_CACHE)
def compiled(canonical: str) -> Validator:
    """A validator for the schema serialised as `canonical`, built once per distinct schema.

    SchemaError if it is not a draft 2020-12 schema; regexes are read as `compile_pattern`
    reads them (Unicode property classes included).
    """
    schema = json.loads(canonical)
    error = best_match(_META.iter_errors(schema))
    if error is not None:
        raise SchemaError.create_from(error)
    validator: Validator = _Checked(schema, format_checker=FORMAT_CHECKER)
    return validator


def validator_for(schema: object) -> Validator:
    """The compiled validator of `schema`; GenerationError if it is not JSON or not a schema."""
    # Keyed by a canonical dump, not id(): a caller may mutate a dict, and ids get reused.
    try:
        canonical = json.dumps(
            schema, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_plain
        )
    except (TypeError, ValueError) as exc:
        raise GenerationError(
            f"cannot generate a value for #: the schema is not JSON ({exc})"
        ) from None
    try:
        return compiled(canonical)
    except SchemaError as exc:
        raise GenerationError(f"invalid schema at {pointer(exc.path)}: {exc.message}") from None


def _plain(value: object) -> object:
    """json.dumps fallback: read-only Mappings and other sequences count as objects and arrays."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def verify(validator: Validator, value: Any) -> None:
    """GenerationError naming the first keyword `value` fails, if any."""
    try:
        error = next(iter(validator.iter_errors(value)), None)
    except Unresolvable as exc:
        raise GenerationError(f"cannot generate a value for #: unresolvable $ref ({exc})") from None
    if error is not None:
        where = pointer(list(error.absolute_schema_path)[:-1])
        raise GenerationError(
            f"cannot generate a value for {where}: the generated value fails "
            f"'{error.validator}' ({error.message})"
        )
