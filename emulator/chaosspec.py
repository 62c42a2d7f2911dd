"""Chaos specs from data and text: a `chaos:` mapping (scenario files, `serve --chaos FILE`)
and the one-line syntax of the `X-Emulator-Chaos` header and `serve --chaos`. Every problem is
a ValueError naming it (the loader, the handler and the CLI say where). Pure."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .chaos import DEFAULT_ERROR, DEFAULT_STALL_MS, KINDS, Burst, Chaos, ChaosFault, Rate
from .presets import PRESET_NAMES, error_preset
from .scenario import ErrorReply

MAX_STALL_MS = 600_000.0  # 10 minutes: longer than any client timeout worth testing


def _error(value: Any) -> ErrorReply:
    """An error given as a preset name, a status, or {preset, status, message, metadata}."""
    if isinstance(value, bool):
        raise ValueError("error: expected a preset name, a status or a mapping")
    if isinstance(value, int):
        if not 400 <= value <= 599:
            raise ValueError(f"error status {value} is not an HTTP error status (400 to 599)")
        return _status_error(value)
    if isinstance(value, str):
        if value.isdigit():
            return _error(int(value))
        if value not in PRESET_NAMES:
            raise ValueError(f"unknown error preset {value!r}; valid: {', '.join(PRESET_NAMES)}")
        return error_preset(value)
    if isinstance(value, Mapping):
        base = _error(value["preset"]) if "preset" in value else None
        status = int(value.get("status", base.status if base else 502))
        if not 400 <= status <= 599:
            raise ValueError(f"error status {status} is not an HTTP error status (400 to 599)")
        default = base or _status_error(status)
        return replace(
            default,
            status=status,
            message=str(value.get("message", default.message)),
            metadata=value.get("metadata", default.metadata),
        )
    raise ValueError("error: expected a preset name, a status or a mapping")


def _status_error(status: int) -> ErrorReply:
    for name in PRESET_NAMES:
        preset = error_preset(name)
        if preset.status == status:
            return replace(preset, preset=name)
    return ErrorReply(status, f"Emulated error {status}")


def fault_of(d: Mapping[str, Any]) -> ChaosFault:
    """A fault from `{fault: kind, error?: ..., ms?: ..., after?: ...}`; ValueError if wrong."""
    kind = d.get("fault")
    if kind not in KINDS:
        raise ValueError(f"fault {kind!r} is not a chaos fault; valid: {', '.join(KINDS)}")
    error = None
    if kind in ("error", "error_after"):
        error = _error(d.get("error", DEFAULT_ERROR))
    elif "error" in d:
        raise ValueError(f"'error' only applies to faults error and error_after, not {kind}")
    if "ms" in d and kind != "stall":
        raise ValueError(f"'ms' only applies to fault stall, not {kind}")
    if "after" in d and kind != "error_after":
        raise ValueError(f"'after' only applies to fault error_after, not {kind}")
    ms = float(d.get("ms", DEFAULT_STALL_MS))
    if not 0 <= ms <= MAX_STALL_MS:  # a request header may set it: never an endless connection
        raise ValueError(f"a stall's ms must be from 0 to {MAX_STALL_MS:.0f}, not {ms:g}")
    return ChaosFault(kind, error, ms, int(d.get("after", 0)))


def parse(d: Mapping[str, Any], source: str = "server") -> Chaos:
    """A spec from schema-shaped data `{seed?, rates?: [...], bursts?: [...]}`; ValueError
    naming the problem when the rates add up to more than 1 or a burst is impossible."""
    rates = tuple(Rate(fault_of(r), float(r["rate"])) for r in d.get("rates", ()))
    total = sum(r.rate for r in rates)
    if total > 1 + 1e-9:
        raise ValueError(f"rates add up to {total:g}; at most 1 (every request) is possible")
    bursts = []
    for b in d.get("bursts", ()):
        every, every_ms = b.get("every"), b.get("every_ms")
        if (every is None) == (every_ms is None):
            raise ValueError("a burst needs exactly one of 'every' (requests) or 'every_ms'")
        # The header skips the schema, so its minimums are checked here (a period of 0 divides).
        if int(b["count"]) < 1:
            raise ValueError(f"a burst's count must be at least 1, not {b['count']}")
        if every is not None and int(b["count"]) > int(every):
            raise ValueError(f"a burst of {b['count']} every {every} requests cannot fit")
        if every_ms is not None and not 0 < float(every_ms) < math.inf:
            raise ValueError(f"a burst's period must be above 0 ms and finite, not {every_ms:g} ms")
        bursts.append(
            Burst(
                fault_of(b),
                int(b["count"]),
                int(every) if every is not None else None,
                float(every_ms) if every_ms is not None else None,
            )
        )
    seed = d.get("seed")
    return Chaos(rates, tuple(bursts), int(seed) if seed is not None else None, source)


_ITEM = re.compile(r"^(?P<kind>[a-z_]+)(?::(?P<arg>[\w.]+))?=(?P<value>\S+)$")


def parse_header(value: str) -> Chaos:
    """A spec from the `X-Emulator-Chaos` header: comma-separated `KIND[:ARG]=RATE`,
    `burst=KIND[:ARG]*COUNT/EVERY` (EVERY requests, or `10s`/`500ms`), `seed=N` (at most once).
    ARG is the error's preset or status, a stall's ms, or error_after's chunk count. ValueError
    if wrong."""
    rates: list[dict[str, Any]] = []
    bursts: list[dict[str, Any]] = []
    seed: int | None = None
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        m = _ITEM.match(item)
        if m is None:
            raise ValueError(f"cannot read {item!r}; expected KIND[:ARG]=RATE, burst=..., seed=N")
        kind, arg, rest = m["kind"], m["arg"], m["value"]
        if kind == "seed" and arg is None:
            if seed is not None:
                raise ValueError(f"seed is given twice ({item!r}); give one seed=N")
            seed = _number(int, rest, item)
        elif kind == "burst" and arg is None:
            bursts.append(_header_burst(rest, item))
        else:
            rates.append({**_header_fault(kind, arg, item), "rate": _number(float, rest, item)})
    for r in rates:
        if not 0 <= r["rate"] <= 1:
            raise ValueError(f"rate {r['rate']:g} of {r['fault']} is not between 0 and 1")
    return parse({"rates": rates, "bursts": bursts, "seed": seed}, "header")


def _number(kind: type[Any], text: str, item: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{item!r}: {text!r} is not a number") from None


def _header_fault(kind: str, arg: str | None, item: str) -> dict[str, Any]:
    out: dict[str, Any] = {"fault": kind}
    if arg is None:
        return out
    if kind in ("error", "error_after") and "." not in arg:
        if kind == "error_after" and arg.isdigit():
            out["after"] = int(arg)
        else:
            out["error"] = arg
    elif kind == "stall":
        out["ms"] = _number(float, arg, item)
    else:
        raise ValueError(f"{item!r}: fault {kind} takes no argument")
    return out


_BURST = re.compile(r"^(?P<fault>[a-z_]+(?::[\w.]+)?)\*(?P<count>\d+)/(?P<every>\d+(?:ms|s)?)$")


def _header_burst(text: str, item: str) -> dict[str, Any]:
    m = _BURST.match(text)
    if m is None:
        raise ValueError(f"{item!r}: expected burst=KIND[:ARG]*COUNT/EVERY (e.g. error:429*3/20)")
    kind, _, arg = m["fault"].partition(":")
    out = {**_header_fault(kind, arg or None, item), "count": int(m["count"])}
    every = m["every"]
    if every.endswith("ms"):
        out["every_ms"] = float(every[:-2])
    elif every.endswith("s"):
        out["every_ms"] = float(every[:-1]) * 1000
    else:
        out["every"] = int(every)
    return out
