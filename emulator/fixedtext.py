"""A scenario's fixed reply text with its token count and stream chunk bodies, made once per
scenario.

A fixed reply (`content:` or `stream.chunks`) is cut into the same pieces for every request,
and the JSON of each piece's stream choice (`{"index":0,"delta":{"content":" w3"},
"finish_reason":null,...}`, spec schema ChatStreamChoice) does not depend on the request: only
the chunk's head (`id`, `created`, `model`) does, and that is serialised once per stream
(`Completion.chunk_text`). So the choice texts are made on the first stream that plays the
reply and kept with its scenario; later streams splice them in (about 3 us less per chunk).
What is kept per text is bounded in keys (MAX_KEYS) and in characters (MAX_KEPT_CHARS): a
request's `n` cannot make a scenario hold one serialised copy of its text per choice.

Its o200k token count is kept the same way (a `max_tokens` it fits under, and usage, need no
encoding per request). Pure: no aiohttp; the tokenizer is imported on the first count; the
caller supplies how pieces are cut and serialised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

# Distinct (choice index, text mode, chunking) keys kept per text: a reply is played with one
# chunking; the index grows with `n`. Past this many the oldest are dropped (bounded memory).
MAX_KEYS = 64
# Characters of serialised choices kept per text, all keys together: a piece's JSON is about 100
# characters more than the piece, so one `n: 64` stream of a 14,000-character text cut by words
# would otherwise pin about 25 MB. Past this the oldest keys are dropped; a key whose choices
# alone are longer is not kept (its streams serialise each chunk as it goes, as without a kept
# text).
MAX_KEPT_CHARS = 1 << 20
_MISSING: Any = object()


class FixedText:
    """`text` and, per key, the serialised stream choices of its pieces (strings, JSON).

    Identity matters: the generator hands out this object's `text` itself, so a choice whose
    content `is` `text` was not cut by a stop sequence, max_tokens or a template."""

    __slots__ = ("_choices", "_kept_chars", "_lock", "_tokens", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._tokens: int | None = None
        # key -> (serialised choices, their characters); None: too long to keep
        self._choices: dict[Hashable, tuple[tuple[str, ...], int] | None] = {}
        self._kept_chars = 0
        # Streams are also built in worker threads (costly plans): additions are serialised.
        self._lock = threading.Lock()

    @property
    def tokens(self) -> int:
        """o200k tokens in `text`, counted on first use (tokens, not characters)."""
        if self._tokens is None:
            from emulator import tokens

            self._tokens = tokens.count(self.text) if self.text else 0
        return self._tokens

    def choice_texts(
        self, key: Hashable, make: Callable[[], tuple[str, ...]]
    ) -> tuple[str, ...] | None:
        """The serialised choices under `key`, made by `make()` on first use and kept; None
        when they are known to be too long to keep (MAX_KEPT_CHARS): the caller serialises
        each piece itself, as it goes."""
        kept = self._choices.get(key, _MISSING)
        if kept is _MISSING:
            with self._lock:
                kept = self._choices.get(key, _MISSING)
                if kept is _MISSING:
                    made = make()
                    size = sum(map(len, made))
                    keep = size <= MAX_KEPT_CHARS
                    while self._choices and (
                        len(self._choices) >= MAX_KEYS
                        or (keep and self._kept_chars + size > MAX_KEPT_CHARS)
                    ):
                        dropped = self._choices.pop(next(iter(self._choices)))
                        self._kept_chars -= dropped[1] if dropped is not None else 0
                    self._choices[key] = (made, size) if keep else None
                    self._kept_chars += size if keep else 0
                    return made
        return kept[0] if kept is not None else None

    @property
    def kept_chars(self) -> int:
        """Characters of serialised choices kept, all keys together (at most MAX_KEPT_CHARS)."""
        return self._kept_chars

    def __len__(self) -> int:
        """How many keys are kept (for tests and inspection)."""
        return len(self._choices)
