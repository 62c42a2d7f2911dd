"""Exact o200k_base counts (PROTOCOL §8, decision D12)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from emulator import tokens


def test_known_string_is_seven_tokens() -> None:
    """'What is the meaning of life?' is the 7 tokens PROTOCOL §8 lists, with their ids."""
    assert tokens.encode("What is the meaning of life?") == [4827, 382, 290, 10915, 328, 2615, 30]
    assert tokens.count("What is the meaning of life?") == 7


def test_single_user_message_prompt_tokens() -> None:
    """One user message gives 3 + 1 (role) + 7 + 3 (priming) = 14 prompt tokens."""
    body = {"messages": [{"role": "user", "content": "What is the meaning of life?"}]}
    assert tokens.prompt_tokens(body) == 14


def test_name_adds_one_token() -> None:
    """A `name` on a message costs its own tokens plus one."""
    plain = {"messages": [{"role": "user", "content": "hi"}]}
    named = {"messages": [{"role": "user", "content": "hi", "name": "bob"}]}
    assert tokens.prompt_tokens(named) == tokens.prompt_tokens(plain) + tokens.count("bob") + 1


def test_text_parts_and_tool_calls_count() -> None:
    """Text parts count their text; images count nothing; tool calls count name and arguments."""
    parts = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is the meaning of life?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            }
        ]
    }
    assert tokens.prompt_tokens(parts) == 14
    call = {
        "messages": [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                    }
                ],
            }
        ]
    }
    expected = 3 + tokens.count("assistant") + tokens.count("get_weather") + tokens.count("{}") + 3
    assert tokens.prompt_tokens(call) == expected


def test_prompt_counts_raw() -> None:
    """A legacy `prompt` counts its raw tokens."""
    assert tokens.prompt_tokens({"prompt": "What is the meaning of life?"}) == 7


def test_special_token_text_is_ordinary() -> None:
    """User text containing <|endoftext|> is counted as text, not rejected."""
    assert tokens.count("<|endoftext|>") > 1


@pytest.mark.parametrize("limit", [1, 2, 5, 11])
def test_truncate_fits(limit: int) -> None:
    """truncate() returns a prefix of at most `limit` tokens."""
    text = "The meaning of life is a question people answer differently."
    cut = tokens.truncate(text, limit)
    assert text.startswith(cut) and tokens.count(cut) <= limit


def test_long_input_is_linear() -> None:
    """A 100,000-character single-token run (quadratic in naive BPE) counts at once."""
    assert tokens.count("x" * 100_000) > 0


def test_vocabulary_cache_round_trip(tmp_path: Path) -> None:
    """The parsed vocabulary is written to the cache and read back identical, checked by hash."""
    first = tokens.vocabulary(tmp_path)
    (cached,) = tmp_path.iterdir()
    assert cached.name.startswith("o200k_base-446a9538cb6c348e-")
    assert tokens.vocabulary(tmp_path) == first
    assert len(first) == tokens.O200K_RANKS


def test_damaged_vocabulary_cache_is_ignored_and_rewritten(tmp_path: Path) -> None:
    """A cache file whose bytes do not match its hash is not trusted: the shipped file is parsed
    again and the cache rewritten."""
    good = tokens.vocabulary(tmp_path)
    (cached,) = tmp_path.iterdir()
    data = bytearray(cached.read_bytes())
    data[-10] ^= 0xFF
    cached.write_bytes(bytes(data))
    assert tokens._read_cache(cached) is None
    assert tokens.vocabulary(tmp_path) == good
    assert tokens._read_cache(cached) == good


def test_unwritable_vocabulary_cache_is_not_an_error(tmp_path: Path) -> None:
    """Where the cache cannot be written (a file stands where its folder should be), the
    vocabulary still loads."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    assert len(tokens.vocabulary(blocker)) == tokens.O200K_RANKS


def test_start_up_counts_of_ascii_text_equal_tiktokens() -> None:
    """Until the encoder is built, ASCII text is counted by the pure-Python BPE: on random
    ASCII strings (contractions, digits, spaces, line ends) its counts equal tiktoken's."""
    rng = random.Random(10)
    alphabet = [chr(i) for i in range(128)] + ["'s", "'LL", "'ve", " the", "\r\n", "  ", "1234"]
    enc = tokens.encoding()
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert tokens._plain_count(text) == len(enc.encode_ordinary(text)), repr(text)
    prose = Path(__file__).parent.parent.joinpath("README.md").read_text(encoding="utf-8")
    paragraphs = prose.encode("ascii", "ignore").decode().split("\n\n")
    counted = [(tokens._plain_count(p), len(enc.encode_ordinary(p))) for p in paragraphs]
    assert all(plain == exact for plain, exact in counted if plain is not None)
    assert sum(plain is not None for plain, _ in counted) > 40


def test_start_up_counting_leaves_long_pieces_to_the_encoder() -> None:
    """A piece longer than PLAIN_PIECE_CHARS (one long word: the pure-Python merge is
    quadratic) is not counted by the start-up path; `count` then uses the encoder."""
    word = "ab" * tokens.PLAIN_PIECE_CHARS
    assert tokens._plain_count(word) is None
    assert tokens._plain_count("a short sentence.") == 4
    assert tokens.count(word) == len(tokens.encoding().encode_ordinary(word))
