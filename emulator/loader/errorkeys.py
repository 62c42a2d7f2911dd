"""Error and fault keys (`error`, `choice_error`, a stream's `error`, `fault`) → the model.

Presets come from `emulator.presets` (the router's errors-and-debugging docs); explicit keys
override a preset's values.
"""

from __future__ import annotations

from typing import Any

from ..presets import error_body_preset, error_preset
from ..scenario import ErrorBody, ErrorReply, Fault
from .positions import JsonPath, Where

# Headers that frame the HTTP response: a scripted value would corrupt it (a short
# Content-Length truncates the body), so scenarios cannot set them.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


class ErrorKeys:
    """Builds error replies, error bodies and faults from schema-valid data (file:line errors)."""

    def __init__(self, where: Where) -> None:
        self.w = where

    def error_reply(self, value: Any, path: JsonPath) -> ErrorReply:
        if isinstance(value, str):
            return error_preset(value)
        # Without a preset the schema requires status and message, so `base` only fills gaps.
        base = error_preset(value["preset"]) if "preset" in value else ErrorReply(0, "")
        headers = dict(base.headers)
        for name, header in value.get("headers", {}).items():
            headers[name] = self.header_value(header, path + ("headers", name))
        return ErrorReply(
            status=int(value.get("status", base.status)),
            message=value.get("message", base.message),
            metadata=value.get("metadata", base.metadata),
            headers=headers,
            delay_ms=float(value.get("delay_ms", 0)),
            preset=value.get("preset"),
            body=value.get("body"),
            availability=base.availability,
            rate_limit=base.rate_limit,
            terminal=value.get("terminal") is True,
        )

    def header_value(self, value: Any, path: JsonPath) -> str:
        if str(path[-1]).lower() in FRAMING_HEADERS:
            raise self.w.error(
                path,
                f"{self.w.name(path)}: the emulator sets {path[-1]} itself (it frames the "
                "response); use a fault or a stream framing fault to break framing on purpose",
            )
        text = str(value)
        if "\r" in text or "\n" in text:
            raise self.w.error(
                path, f"{self.w.name(path)}: header values may not contain line breaks"
            )
        return text

    def error_body(self, value: Any) -> ErrorBody:
        if isinstance(value, str):
            return error_body_preset(value)
        base = error_body_preset(value["preset"]) if "preset" in value else ErrorBody(0, "")
        return ErrorBody(
            code=int(value.get("code", base.code)),
            message=value.get("message", base.message),
            metadata=value.get("metadata", base.metadata),
            availability=base.availability,
        )

    def fault(self, value: Any, path: JsonPath) -> Fault:
        if isinstance(value, str):
            return Fault(value)
        kind = value["kind"]
        for key, owner in (("max_ms", "hang"), ("body", "malformed_json")):
            if key in value and kind != owner:
                raise self.w.error(
                    path + (key,),
                    f"{self.w.name(path + (key,))} only applies to kind {owner}, not {kind}",
                )
        return Fault(kind, max_ms=float(value.get("max_ms", 30000.0)), body=value.get("body"))
