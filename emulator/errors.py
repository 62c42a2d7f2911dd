"""The exception hierarchy and the router's error envelope (PROTOCOL §5, decisions D3 and D10)."""

from __future__ import annotations

from typing import Any

# Messages the router itself uses (PROTOCOL §5.2, protocol-examples/error_*.json).
NO_AUTH_MESSAGE = "No auth credentials found"
BAD_KEY_MESSAGE = "User not found."


def error_envelope(
    code: int, message: str, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The router's error body `{"error": {"code", "message", "metadata"?}}`; code = HTTP status."""
    error: dict[str, Any] = {"code": code, "message": message}
    if metadata is not None:
        error["metadata"] = metadata
    return {"error": error}


class EmulatorError(Exception):
    """Base class of every error the emulator raises on purpose."""


class RequestError(EmulatorError):
    """A request the emulator answers with a 4xx in the router's envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.metadata = metadata
        self.headers = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        return error_envelope(self.status, self.message, self.metadata)


class ScenarioError(EmulatorError):
    """A scenario file (or dict) that cannot be loaded; the message names `file:line`."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = message
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(where + message)


class GenerationError(EmulatorError):
    """Content that cannot be generated (e.g. a JSON Schema no value can satisfy)."""
