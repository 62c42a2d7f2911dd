"""Keys for agents and chaos → the model: turn-aware match criteria (`turn`, `last_role`,
`tool_result`, `tools_called`), `normalize`, `chaos`, a stream's `faults` and `fuzz`, and the
`error_only` fault's `error`. Runs on schema-valid data; semantic problems raise file:line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .. import chaos, chaosspec, normalize
from ..fuzz import Fuzz
from ..scenario import Fault, StreamSpec, TextMatcher, TurnMatch, TurnRange
from ..wirefaults import StreamFaults
from .positions import JsonPath
from .streamkeys import StreamKeys

TURN_KEYS = ("turn", "last_role", "tool_result", "tools_called")


class AgentKeys(StreamKeys):
    """Builds the agent and chaos parts of a scenario (see the module docstring)."""

    def text_matcher(self, value: Any, path: JsonPath, plain_op: str) -> TextMatcher:
        raise NotImplementedError  # the scenario builder's

    def turn_match(self, d: Mapping[str, Any], path: JsonPath) -> TurnMatch | None:
        """The turn-aware criteria of a `match` block, None when it gives none."""
        if not any(key in d for key in TURN_KEYS):
            return None
        result = d.get("tool_result", {})
        texts = {
            field: self.text_matcher(result[key], path + ("tool_result", key), "equals")
            for key, field in (
                ("tool_call_id", "tool_call_id"),
                ("name", "tool_name"),
                ("content", "tool_content"),
            )
            if key in result
        }
        called = d.get("tools_called")
        return TurnMatch(
            turn=self.turn_range(d["turn"], path + ("turn",)) if "turn" in d else None,
            last_role=d.get("last_role"),
            tools_called=tuple(called) if called is not None else None,
            **texts,
        )

    def turn_range(self, value: Any, path: JsonPath) -> TurnRange:
        if not isinstance(value, Mapping):
            return TurnRange(int(value), int(value))
        low, high = value.get("min"), value.get("max")
        if low is not None and high is not None and low > high:
            raise self.w.error(
                path, f"{self.w.name(path)}: min ({low}) is greater than max ({high})"
            )
        return TurnRange(
            int(low) if low is not None else None, int(high) if high is not None else None
        )

    def normalize_of(self, d: Mapping[str, Any], path: JsonPath) -> normalize.Normalize | None:
        """A scenario's `normalize` (None when absent: the server's applies)."""
        if "normalize" not in d:
            return None
        try:
            return normalize.parse(d["normalize"])
        except ValueError as exc:
            where = path + ("normalize",)
            raise self.w.error(where, f"{self.w.name(where)}: {exc}") from None

    def chaos_of(self, d: Mapping[str, Any], path: JsonPath) -> chaos.Chaos | None:
        """A scenario's `chaos` (None when absent: the server's applies)."""
        if "chaos" not in d:
            return None
        where = path + ("chaos",)
        try:
            return chaosspec.parse(d["chaos"], f"scenario {d['name']!r}")
        except ValueError as exc:
            raise self.w.error(where, f"{self.w.name(where)}: {exc}") from None

    def stream(self, d: Mapping[str, Any], path: JsonPath) -> StreamSpec:
        spec = super().stream(d, path)
        faults, fuzz = d.get("faults"), d.get("fuzz")
        if not faults and not fuzz:
            return spec
        framing = d.get("framing", {})
        for key in ("split_every", "stall_after"):
            if key in framing:
                where = path + ("framing", key)
                raise self.w.error(
                    where,
                    f"{self.w.name(where)} cuts events apart, which stream faults and fuzz "
                    "rewrite whole; use one or the other",
                )
        return replace(
            spec,
            faults=self.stream_faults(faults) if faults else None,
            fuzz=_fuzz(fuzz),
        )

    def stream_faults(self, d: Mapping[str, Any]) -> StreamFaults:
        fields = d.get("missing_chunk_fields")
        return StreamFaults(
            **{k: bool(v) for k, v in d.items() if k != "missing_chunk_fields"},
            missing_chunk_fields=tuple(fields) if fields else (),
        )

    def fault(self, value: Any, path: JsonPath) -> Fault:
        if not isinstance(value, Mapping) or "error" not in value:
            return super().fault(value, path)
        if value["kind"] != "error_only":
            where = path + ("error",)
            raise self.w.error(
                where, f"{self.w.name(where)} only applies to kind error_only, not {value['kind']}"
            )
        return Fault("error_only", error=self.error_body(value["error"]))


def _fuzz(value: Any) -> Fuzz | None:
    if value is None or value is False:
        return None
    if value is True:
        return Fuzz()
    seed = value.get("seed")
    return Fuzz(int(seed) if seed is not None else None)
