"""The ASCII part of the vocabulary, read at start-up in CRC-32 buckets that are unmarshalled on
first lookup: every ASCII token has its vocabulary rank, nothing else is found, and a damaged
or foreign cache file is rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator import diskcache, tokens


def test_every_ascii_token_has_its_rank_and_nothing_else_is_found() -> None:
    """All 128,835 ASCII tokens give their rank by `[]`, `get` and `in`; the non-ASCII tokens
    and bytes outside the vocabulary are not found."""
    vocab = tokens.ranks()
    ascii_part = tokens.ascii_ranks()
    seen = 0
    for token, rank in vocab.items():
        if token.isascii():
            assert ascii_part[token] == rank
            assert ascii_part.get(token) == rank
            assert token in ascii_part
            seen += 1
        else:
            assert token not in ascii_part
            assert ascii_part.get(token, -1) == -1
    assert seen == tokens.O200K_ASCII_RANKS
    with pytest.raises(KeyError):
        ascii_part[b"not a token of the vocabulary at all"]
    assert "a" not in ascii_part  # str is not bytes


def test_buckets_are_read_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bucket is unmarshalled on its first lookup only."""
    fresh = tokens.AsciiRanks(*tokens._ascii_buckets()[1:])
    loads: list[int] = []
    real = tokens.marshal.loads

    def counted(data: bytes) -> object:
        loads.append(len(data))
        return real(data)

    monkeypatch.setattr(tokens.marshal, "loads", counted)
    for _ in range(3):
        assert fresh[b"hello"] == tokens.ranks()[b"hello"]
        assert fresh.get(b" world") == tokens.ranks()[b" world"]
    assert len(loads) <= 2


def test_a_damaged_cache_file_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache file of the buckets that is damaged (a flipped byte) is ignored and rebuilt;
    the lookups are right either way."""
    monkeypatch.setenv("CHAT_EMULATOR_CACHE_DIR", str(tmp_path))
    tokens.ascii_ranks.cache_clear()
    try:
        first = tokens.ascii_ranks()
        (path,) = tmp_path.glob("chat-emulator/o200k_base-ascii-*")
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        assert diskcache.read(path) is None
        tokens.ascii_ranks.cache_clear()
        again = tokens.ascii_ranks()
        assert again is not first
        assert again[b"hello"] == first[b"hello"] == tokens.ranks()[b"hello"]
        assert diskcache.read(path) is not None
    finally:
        tokens.ascii_ranks.cache_clear()
