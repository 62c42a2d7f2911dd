"""A slice of work a request may do on the event loop before it is moved to a worker thread.

The server answers on one event loop; a step whose cost depends on the request (a reply
generated from a tool's JSON Schema) is tried there first, within a small slice, and redone in a
worker thread with its whole budget (`emulator.deadline`) the moment it would spend more. Code
that does such work charges it against the slice (`emulator.jsongen.budget.Budget`) and raises
`SliceSpent`; the slice must change no choice, so both runs give the same result.

Pure: no aiohttp.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["SliceSpent", "current_slice", "inline_slice"]

_SLICE: ContextVar[tuple[int, int] | None] = ContextVar("chat_emulator_inline_slice", default=None)


class SliceSpent(Exception):
    """The inline slice ran out. Not a GenerationError: nothing that tries alternatives catches
    it, so the whole step stops, to be redone where it may spend its full budget."""


@contextmanager
def inline_slice(steps: int, chars: int) -> Iterator[None]:
    """Within the block, work charged against the slice raises SliceSpent as soon as it has
    spent, or is known to need, more than `steps` steps or `chars` characters."""
    token = _SLICE.set((steps, chars))
    try:
        yield
    finally:
        _SLICE.reset(token)


def current_slice() -> tuple[int, int] | None:
    """(steps, chars) of the slice in force in this context, or None (no slice: a worker
    thread, or work outside a request)."""
    return _SLICE.get()
