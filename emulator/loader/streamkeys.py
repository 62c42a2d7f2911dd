"""Stream keys of a reply (`reply.stream`): chunking, timing, keep-alive, errors, framing."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ..scenario import (
    MAX_KEEPALIVES,
    Chunking,
    Framing,
    Interval,
    KeepAlive,
    StreamEvent,
    StreamSpec,
)
from .errorkeys import ErrorKeys
from .positions import JsonPath


class StreamKeys(ErrorKeys):
    """Builds a `StreamSpec` from schema-valid `stream` data; semantic problems raise file:line."""

    # --- stream ---
    def stream(self, d: Mapping[str, Any], path: JsonPath) -> StreamSpec:
        keepalive = d.get("keepalive")
        self.check_keepalive(d, path)
        error = d.get("error")
        events = d.get("events")
        chunks = d.get("chunks")
        return StreamSpec(
            chunking=_chunking(d.get("chunking", "words")),
            chunks=tuple(chunks) if chunks is not None else None,
            ttft_ms=float(d.get("ttft_ms", 0)),
            interval=self.interval(d.get("interval_ms", 0), path + ("interval_ms",)),
            keepalive=KeepAlive(**_floats(keepalive, "every_ms"))
            if keepalive is not None
            else None,
            error_after=_int(d.get("error_after")),
            error=self.error_body(error) if error is not None else None,
            disconnect_after=_int(d.get("disconnect_after")),
            done=d.get("done", True),
            usage_chunk=d.get("usage_chunk"),
            events=(
                tuple(self.event(e, path + ("events", i)) for i, e in enumerate(events))
                if events is not None
                else None
            ),
            framing=self.framing(d.get("framing", {})),
        )

    def check_keepalive(self, d: Mapping[str, Any], path: JsonPath) -> None:
        """A keep-alive comment every few microseconds over a long ttft would compile to
        millions of events; refuse more than MAX_KEEPALIVES comments up front."""
        every = float((d.get("keepalive") or {}).get("every_ms", 0) or 0)
        ttft = float(d.get("ttft_ms", 0) or 0)
        if every > 0 and ttft / every > MAX_KEEPALIVES:
            where = path + ("keepalive", "every_ms")
            raise self.w.error(
                where,
                f"{self.w.name(where)}: {every:g} ms over a ttft_ms of {ttft:g} would send "
                f"{ttft / every:,.0f} comments; at most {MAX_KEEPALIVES:,} are allowed",
            )

    def framing(self, d: Mapping[str, Any]) -> Framing:
        return Framing(
            line_ending=d.get("line_ending", "\n"),
            split_every=_int(d.get("split_every")),
            stall_after=_int(d.get("stall_after")),
            stall_ms=float(d.get("stall_ms", 30000.0)),
            duplicate_done=d.get("duplicate_done", False),
        )

    def interval(self, value: Any, path: JsonPath) -> Interval:
        if isinstance(value, list):
            return Interval(per_chunk=tuple(float(v) for v in value))
        if not isinstance(value, dict):
            return Interval(ms=float(value))
        low, high = float(value["min"]), float(value["max"])
        if low > high:
            raise self.w.error(
                path,
                f"{self.w.name(path)}: min ({value['min']}) is greater than max ({value['max']})",
            )
        return Interval(min_ms=low, max_ms=high)

    def event(self, d: Mapping[str, Any], path: JsonPath = ()) -> StreamEvent:
        kind, value = next(iter(d.items()))
        if kind == "raw" and isinstance(value, Mapping):
            value = self.base64_bytes(value["base64"], path + ("raw", "base64"))
        elif kind == "error":
            value = self.error_body(value)
        elif kind == "tool_call":
            value = {
                "index": int(value.get("index", 0)),
                "id": value.get("id"),
                "name": value.get("name"),
                "arguments": value.get("arguments"),
            }
        elif kind == "wait_ms":
            value = float(value)
        return StreamEvent(kind, value)

    def base64_bytes(self, text: str, path: JsonPath) -> bytes:
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise self.w.error(path, f"{self.w.name(path)}: not base64: {exc}") from None


def _int(value: Any) -> int | None:
    # JSON Schema's "integer" also admits 3.0; the model wants a real int.
    return int(value) if value is not None else None


def _chunking(value: Any) -> Chunking:
    if isinstance(value, str):
        return Chunking(value)
    kind, size = next(iter(value.items()))
    return Chunking(kind, int(size))


def _floats(d: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: float(v) if k in keys else v for k, v in d.items()}
