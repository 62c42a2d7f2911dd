"""A scenario's fixed reply text with its token count and stream chunk bodies, made once per
scenario.

A fixed reply (`content:` or `stream.chunks`) is cut into the same pieces for every request,
and the JSON of each piece's stream choice (`{"index":0,"delta":{"content":" w3"},
"finish_reason":null,...}`, spec schema ChatStreamChoice) does not depend on the request: only
the chunk's head (`id`, `created`, `model`) does, and that is serialised once per stream
(`Completion.chunk_text`). So the choice texts are made on the first stream that plays the
reply and kept with its scenario; later streams splice them in (about 3 us less per chunk).

Its o200k token count is kept the same way (a `max_tokens` it fits under, and usage, need no
encoding per request). Pure: no aiohttp; the tokenizer is imported on the first count; the
caller supplies how pieces are cut and serialised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

# Distinct (choice index, text mode, chunking) keys kept per text: a reply is played with one
# chunking; the index grows with `n`. Past this many the oldest are dropped (bounded memory).
MAX_KEYS = 64


class FixedText:
    """`text` and, per key, the serialised stream choices of its pieces (strings, JSON).

    Identity matters: the generator hands out this object's `text` itself, so a choice whose
    content `is` `text` was not cut by a stop sequence, max_tokens or a template."""

    __slots__ = ("_choices", "_lock", "_tokens", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._tokens: int | None = None
        self._choices: dict[Hashable, tuple[str, ...]] = {}
        # Streams are also built in worker threads (costly plans): additions are serialised.
        self._lock = threading.Lock()

    @property
    def tokens(self) -> int:
        """o200k tokens in `text`, counted on first use (tokens, not characters)."""
        if self._tokens is None:
            from emulator import tokens

            self._tokens = tokens.count(self.text) if self.text else 0
        return self._tokens

    def choice_texts(self, key: Hashable, make: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
        """The serialised choices under `key`, made by `make()` on first use and kept."""
        found = self._choices.get(key)
        if found is None:
            with self._lock:
                found = self._choices.get(key)
                if found is None:
                    found = make()
                    if len(self._choices) >= MAX_KEYS:
                        del self._choices[next(iter(self._choices))]
                    self._choices[key] = found
        return found

    def __len__(self) -> int:
        """How many keys are kept (for tests and inspection)."""
        return len(self._choices)
