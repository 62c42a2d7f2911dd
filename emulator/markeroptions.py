"""The options of `@pytest.mark.chat_emulator(...)`: their names, and the check of their values
(every wrong one named with what it must be). Imports no pytest (the plugin fails the test),
and nothing heavy until a marker is read: the plugin imports this module at start-up."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

MARKER_OPTIONS = (
    "scenarios",
    "strict",
    "seed",
    "time_scale",
    "check_requests",
    "catalog",
    "generation_lag_ms",
    "generation_lag_polls",
    "catalog_strict",
    "rpm",
    "rpd",
    "tpm",
    "record",
    "cassette",
    "fail_on_unused",
    "session",
    "chaos",
    "normalize",
)
RECORD_MODES = ("none", "once", "new_episodes", "all")  # as emulator.cassette.RECORD_MODES
_HASH_CHARS = 16


def session_name(option: str | bool, nodeid: str) -> str:
    """The session of a test marked `session=option`: the name given, or for True the test's
    node id (e.g. `tests/test_x.py::test_y[1]`); a node id longer than the header allows keeps
    its start and ends in a hash of the whole, so two tests never share a session."""
    from emulator.state import MAX_SESSION_CHARS

    if option is not True:
        return str(option)
    name = "".join(c if c.isprintable() else "?" for c in nodeid).strip() or "test"
    if len(name) <= MAX_SESSION_CHARS:
        return name
    digest = hashlib.sha256(nodeid.encode()).hexdigest()[:_HASH_CHARS]
    return f"{name[: MAX_SESSION_CHARS - _HASH_CHARS - 1]}~{digest}"


def bad_values(options: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(option, problem) for each marker option whose value is wrong, e.g.
    `("seed", "must be an integer")`; the plugin fails the test's setup naming it."""
    for name in ("strict", "check_requests", "catalog_strict", "fail_on_unused"):
        if name in options and not isinstance(options[name], bool):
            yield name, "must be True or False"
    for name in ("rpm", "rpd", "tpm"):
        value = options.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            yield name, "must be an integer >= 0"
    seed = options.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        yield "seed", "must be an integer"
    for name in ("generation_lag_ms", "generation_lag_polls"):
        lag = options.get(name)
        if lag is not None and (
            isinstance(lag, bool) or not isinstance(lag, (int, float)) or lag < 0
        ):
            yield name, "must be a number >= 0"
    record = options.get("record")
    if record is not None and record not in RECORD_MODES:
        yield "record", f"is not a valid record mode. Valid modes are: {', '.join(RECORD_MODES)}"
    cassette = options.get("cassette")
    if cassette is not None and not isinstance(cassette, (bool, str, os.PathLike)):
        yield "cassette", "must be a path (or True for the default one)"
    scale = options.get("time_scale")
    if scale is not None and (
        isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale < 0
    ):
        yield "time_scale", "must be a number >= 0 (0: no waits at all)"
    chaos = options.get("chaos")
    if chaos is not None and not isinstance(chaos, (str, Mapping)):
        yield "chaos", "must be the X-Emulator-Chaos header's syntax or a mapping (docs/chaos.md)"
    norm = options.get("normalize")
    if norm is not None and not isinstance(norm, (bool, str, list, Mapping)):
        yield "normalize", "must be True, False, a list of rewrites or a mapping (docs/agents.md)"
    session = options.get("session")
    if session is not None and session is not True:
        from emulator.state import MAX_SESSION_CHARS
        from emulator.testjournal import check_session_name

        try:
            check_session_name(session)
        except ValueError:
            rule = f"1 to {MAX_SESSION_CHARS} printable characters, no white space at the ends"
            yield "session", f"must be True (a session named after the test) or {rule}"
