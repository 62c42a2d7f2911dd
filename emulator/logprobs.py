"""`logprobs` for `logprobs: true` requests (spec schemas ChatTokenLogprobs, ChatTokenLogprob).

One entry per o200k token of a choice's content: `token` (its text; a token that ends inside a
UTF-8 character shows U+FFFD, as OpenAI's do), a seeded `logprob` (natural log, <= 0), `bytes`
(the token's UTF-8 bytes) and `top_logprobs`: `top_logprobs` alternatives, the token itself
first, then other vocabulary tokens, each less likely. A stream sends each content delta the
entries of the tokens that end inside it, so the streamed entries are the same tokens in the
same order. Pure: values come from the generator passed in.
"""

from __future__ import annotations

import math
import random
from typing import Any

from emulator import tokens

# Alternatives are drawn from this range of o200k ids (ordinary tokens, no specials).
_VOCABULARY = 199_997


def _entry(enc: Any, token: int, logprob: float) -> dict[str, Any]:
    raw: bytes = enc.decode_single_token_bytes(token)
    return {"token": raw.decode("utf-8", errors="replace"), "logprob": logprob, "bytes": list(raw)}


def content_logprobs(text: str, top: int, rng: random.Random) -> list[dict[str, Any]]:
    """The entries (token, logprob, bytes, top_logprobs) of every o200k token of `text`."""
    enc = tokens.encoding()
    out: list[dict[str, Any]] = []
    for token in enc.encode_ordinary(text):
        logprob = round(-rng.expovariate(4.0), 6)
        entry = _entry(enc, token, logprob)
        alternatives = [dict(entry)]
        floor = logprob
        for _ in range(max(0, top - 1)):
            other = rng.randrange(_VOCABULARY)
            floor = round(floor - rng.uniform(0.1, 3.0), 6)
            try:
                alternatives.append(_entry(enc, other, floor))
            except KeyError:  # an id with no token in the vocabulary
                alternatives.append({"token": "", "logprob": floor, "bytes": []})
        entry["top_logprobs"] = alternatives[:top]
        out.append(entry)
    return out


def split_by_pieces(entries: list[dict[str, Any]], pieces: list[str]) -> list[list[dict[str, Any]]]:
    """The entries of each streamed piece: a token belongs to the piece its last byte is in.
    Joined, the lists are `entries` in order."""
    ends: list[int] = []
    total = 0
    for piece in pieces:
        total += len(piece.encode())
        ends.append(total)
    out: list[list[dict[str, Any]]] = [[] for _ in pieces]
    at, current = 0, 0
    for entry in entries:
        at += len(entry["bytes"])
        while current < len(ends) - 1 and at > ends[current]:
            current += 1
        out[current].append(entry)
    return out


def probability(entry: dict[str, Any]) -> float:
    """The probability of an entry's token (for docs and tests)."""
    return math.exp(entry["logprob"])
