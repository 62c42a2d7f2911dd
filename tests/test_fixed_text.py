"""A scenario's fixed reply keeps its stream chunk bodies (the serialised choice of each piece)
and its token count with the scenario: later streams reuse them, and every stream's bytes are
those the same completion gives when each chunk is serialised afresh."""

from __future__ import annotations

import dataclasses
import random
import threading
from typing import Any

import pytest
import rawsse

from emulator import deltas, fixedtext, protocol, streams, tokens
from emulator.chatrequest import ChatRequest
from emulator.fixedtext import FixedText
from emulator.generate import Draw, Generator
from emulator.protocol import Completion
from emulator.scenario import ChoiceSpec, Chunking, Reply, StreamSpec
from emulator.testing import EmulatorServer
from emulator.timeline import Send, StreamDefaults

TEXT = "Grüße aus 北京 🦊, and then some plain words.\nA second line follows."
CHUNKS = ("Hel", "lo ", "wör", "ld 🦊", "!")

# name: (reply, request body extras, does choice 0 carry the fixed text: is its content the
# scenario's text as written)
CASES: dict[str, tuple[Reply, dict[str, Any], bool]] = {
    "words": (Reply(choice=ChoiceSpec(content=TEXT)), {}, True),
    "chars-3": (
        Reply(choice=ChoiceSpec(content=TEXT), stream=StreamSpec(chunking=Chunking("chars", 3))),
        {},
        True,
    ),
    "tokens-1": (
        Reply(choice=ChoiceSpec(content=TEXT), stream=StreamSpec(chunking=Chunking("tokens", 1))),
        {},
        True,
    ),
    "lines": (
        Reply(choice=ChoiceSpec(content=TEXT), stream=StreamSpec(chunking=Chunking("lines", 1))),
        {},
        True,
    ),
    "none": (
        Reply(choice=ChoiceSpec(content=TEXT), stream=StreamSpec(chunking=Chunking("none", 1))),
        {},
        True,
    ),
    "stream-chunks": (Reply(stream=StreamSpec(chunks=CHUNKS)), {}, True),
    "chunks-and-content": (
        Reply(choice=ChoiceSpec(content="".join(CHUNKS)), stream=StreamSpec(chunks=CHUNKS)),
        {},
        True,
    ),
    "n3": (Reply(choice=ChoiceSpec(content=TEXT)), {"n": 3}, True),
    "n2-stream-chunks": (Reply(stream=StreamSpec(chunks=CHUNKS)), {"n": 2}, True),
    "reasoning-and-refusal": (
        Reply(choice=ChoiceSpec(content=TEXT, reasoning="think first", refusal="no")),
        {},
        True,
    ),
    "text-mode": (Reply(choice=ChoiceSpec(content=TEXT)), {"prompt": "Say it"}, True),
    "stop-cut": (Reply(choice=ChoiceSpec(content=TEXT)), {"stop": ["plain"]}, False),
    "max-tokens-cut": (Reply(choice=ChoiceSpec(content=TEXT)), {"max_tokens": 4}, False),
    "max-tokens-fits": (Reply(choice=ChoiceSpec(content=TEXT)), {"max_tokens": 500}, True),
    "template": (
        Reply(choice=ChoiceSpec(content="You asked {{ request.model }}.")),
        {},
        False,
    ),
    "logprobs": (
        Reply(choice=ChoiceSpec(content=TEXT)),
        {"logprobs": True, "top_logprobs": 2},
        True,  # its count is kept; its pieces carry logprobs, so they are serialised afresh
    ),
}


def _request(extra: dict[str, Any]) -> ChatRequest:
    body: dict[str, Any] = {"model": "openai/gpt-4o", "stream": True, **extra}
    if "prompt" not in extra:
        body["messages"] = [{"role": "user", "content": "hi"}]
    return ChatRequest(body)


def _bytes(completion: Completion, spec: StreamSpec | None, seed: int) -> list[bytes]:
    timeline = streams.stream_response(completion, spec, StreamDefaults(), random.Random(seed))
    return [e.data for e in timeline.play() if isinstance(e, Send)]


def _afresh(completion: Completion) -> Completion:
    """The same completion with no fixed text: every chunk serialised from its dict."""
    choices = tuple(dataclasses.replace(c, fixed=None) for c in completion.choices)
    return dataclasses.replace(completion, choices=choices)


@pytest.mark.parametrize("seed", [0, 41])
@pytest.mark.parametrize("name", sorted(CASES))
def test_kept_chunk_bodies_give_the_same_bytes(name: str, seed: int) -> None:
    """First and later streams of a reply send the bytes serialising every chunk gives; the
    fixed text is used exactly when the content is the text as written."""
    reply, extra, fixed = CASES[name]
    generator = Generator()
    for serial in range(3):
        completion = generator.completion(reply, _request(extra), Draw(seed, 1, serial, name))
        assert (completion.choices[0].fixed is not None) == fixed
        assert _bytes(completion, reply.stream, seed) == _bytes(
            _afresh(completion), reply.stream, seed
        )


def test_chunk_bodies_are_made_once_per_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five streams of one scenario serialise its pieces once (on the first stream); the kept
    texts are the same objects each time."""
    made: list[int] = []
    real = deltas._pieces

    def counted(*args: Any) -> list[str]:
        made.append(1)
        return real(*args)

    monkeypatch.setattr(deltas, "_pieces", counted)
    reply = Reply(choice=ChoiceSpec(content=TEXT))
    generator = Generator()
    for serial in range(5):
        completion = generator.completion(reply, _request({}), Draw(0, 1, serial, "s"))
        _bytes(completion, None, serial)
    assert len(made) == 1
    fixed = reply.choice.fixed
    assert fixed is not None and len(fixed) == 1
    first = fixed.choice_texts((0, False, Chunking(), None), lambda: ("not used",))
    assert first[0].startswith('{"index":0,"delta":{"content":"Grüße"')


def test_one_key_per_chunking_index_and_mode() -> None:
    """A reply played with other chunkings, choice counts and text mode keeps one entry each."""
    reply = Reply(choice=ChoiceSpec(content=TEXT))
    generator = Generator()
    for extra in ({}, {"n": 2}, {"prompt": "x"}):
        for chunking in (Chunking(), Chunking("chars", 2)):
            completion = generator.completion(reply, _request(extra), Draw(0, 1))
            _bytes(completion, StreamSpec(chunking=chunking), 0)
    fixed = reply.choice.fixed
    assert fixed is not None
    # (index 0, chat) x 2 chunkings, (index 1, chat) x 2, (index 0, text mode) x 2
    assert len(fixed) == 6


def test_one_text_played_every_way_gives_the_bytes_of_each() -> None:
    """One scenario text played in chat and text mode, with its `stream.chunks` and without,
    cut by words and by characters, in turns: each stream has the bytes serialising it afresh
    gives (no kept body is handed to a stream it was not made for)."""
    choice = ChoiceSpec(content="".join(CHUNKS))
    specs = [StreamSpec(chunks=CHUNKS), StreamSpec(), StreamSpec(chunking=Chunking("chars", 2))]
    generator = Generator()
    for turn in range(2):
        for extra in ({}, {"prompt": "x"}, {"n": 2}):
            for spec in specs:
                reply = Reply(choice=choice, stream=spec)
                completion = generator.completion(reply, _request(extra), Draw(turn, 1))
                assert completion.choices[0].fixed is choice.fixed
                assert _bytes(completion, spec, turn) == _bytes(_afresh(completion), spec, turn)


def test_kept_keys_are_bounded() -> None:
    """Past MAX_KEYS the oldest key is dropped: memory stays bounded whatever the requests."""
    fixed = FixedText("a b")
    for i in range(fixedtext.MAX_KEYS + 10):
        fixed.choice_texts(i, lambda i=i: (str(i),))
    assert len(fixed) == fixedtext.MAX_KEYS
    assert fixed.choice_texts(fixedtext.MAX_KEYS + 9, lambda: ("again",)) == (
        str(fixedtext.MAX_KEYS + 9),
    )
    assert fixed.choice_texts(0, lambda: ("made again",)) == ("made again",)


def test_stream_chunks_token_count_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """`stream.chunks` joined is counted once for the scenario, and usage is its exact count."""
    joined = "".join(CHUNKS)
    exact = tokens.count(joined)
    calls: list[str] = []
    real = tokens.count

    def spy(text: str) -> int:
        if text == joined:
            calls.append(text)
        return real(text)

    monkeypatch.setattr(tokens, "count", spy)
    reply = Reply(stream=StreamSpec(chunks=CHUNKS))
    generator = Generator()
    for serial in range(4):
        completion = generator.completion(reply, _request({}), Draw(0, 1, serial, "s"))
        assert completion.choices[0].content == joined
        assert completion.usage["completion_tokens"] == exact
    assert len(calls) == 1


def test_fixed_text_is_not_part_of_the_wire_shape() -> None:
    """Two choices that differ only in the kept fixed text are equal, and it is not shown."""
    reply = Reply(choice=ChoiceSpec(content="hi"))
    completion = Generator().completion(reply, _request({}), Draw(0, 1))
    kept = completion.choices[0]
    assert kept.fixed is not None
    assert kept == dataclasses.replace(kept, fixed=None)
    assert "fixed" not in repr(kept)
    assert "fixed" not in protocol.dumps(completion.to_json())


@pytest.fixture(scope="module")
def live() -> Any:
    with EmulatorServer() as server:
        yield server


def _load_fixed(live: EmulatorServer) -> None:
    """A fresh server state (seed 5, no waits) with one fixed reply cut every 4 characters."""
    live.reset()
    live.configure(seed=5, time_scale=0)
    live.add(
        {
            "name": "fixed",
            "match": {"last_role": "user"},
            "reply": {"content": TEXT, "stream": {"chunking": {"chars": 4}}},
        }
    )


def test_through_a_socket_later_streams_send_the_same_bytes(
    live: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over a real socket, streams of a fixed reply (first and later) send the bytes of the same
    stream serialised afresh (the kept bodies switched off), seed for seed."""
    _load_fixed(live)
    kept = [rawsse.post(live.port, rawsse.stream_body()) for _ in range(3)]
    real = deltas._choice_deltas
    monkeypatch.setattr(
        deltas, "_choice_deltas", lambda choice, spec, completion=None: real(choice, spec)
    )
    _load_fixed(live)
    afresh = [rawsse.post(live.port, rawsse.stream_body()) for _ in range(3)]
    assert [[p.data for p in a.pieces] for a in kept] == [
        [p.data for p in a.pieces] for a in afresh
    ]
    content = "".join(
        d["choices"][0]["delta"].get("content") or ""
        for d in kept[2].data()
        if isinstance(d, dict) and d.get("choices")
    )
    assert content == TEXT


def test_threads_adding_keys_at_once_keep_it_bounded_and_consistent() -> None:
    """Eight threads adding and reading keys past MAX_KEYS at once: no error, at most MAX_KEYS
    kept, and every key read back gives what its own maker made."""
    fixed = FixedText("a b")
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(400):
                key = (offset + i) % (fixedtext.MAX_KEYS * 3)
                assert fixed.choice_texts(key, lambda key=key: (str(key),)) == (str(key),)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n * 17,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(fixed) <= fixedtext.MAX_KEYS


def test_kept_characters_are_bounded_whatever_n(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams with a large `n` keep at most MAX_KEPT_CHARS of serialised choices per text (the
    oldest keys dropped), not one copy of the serialised text per choice, and send the same
    bytes."""
    monkeypatch.setattr(fixedtext, "MAX_KEPT_CHARS", 5_000)  # sized down: about 4 choices' worth
    reply = Reply(choice=ChoiceSpec(content=TEXT), stream=StreamSpec(chunking=Chunking("chars", 2)))
    generator = Generator()
    for serial in range(2):
        completion = generator.completion(reply, _request({"n": 8}), Draw(0, 1, serial, "n8"))
        assert _bytes(completion, reply.stream, 0) == _bytes(_afresh(completion), reply.stream, 0)
    fixed = reply.choice.fixed
    assert fixed is not None
    assert 0 < fixed.kept_chars <= 5_000
    assert 0 < len(fixed) < 8


def test_choices_too_long_to_keep_are_serialised_as_they_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key whose serialised choices alone pass MAX_KEPT_CHARS is made once, not kept, and its
    later streams serialise each chunk as it goes: same bytes, nothing kept."""
    monkeypatch.setattr(fixedtext, "MAX_KEPT_CHARS", 500)
    made: list[int] = []
    real = deltas._pieces

    def counted(*args: Any) -> list[str]:
        made.append(1)
        return real(*args)

    monkeypatch.setattr(deltas, "_pieces", counted)
    reply = Reply(choice=ChoiceSpec(content=TEXT), stream=StreamSpec(chunking=Chunking("chars", 1)))
    generator = Generator()
    for serial in range(3):
        completion = generator.completion(reply, _request({}), Draw(0, 1, serial, "long"))
        assert _bytes(completion, reply.stream, 0) == _bytes(_afresh(completion), reply.stream, 0)
    fixed = reply.choice.fixed
    assert fixed is not None and fixed.kept_chars == 0
    # the first stream's pieces made for keeping, the 2 later streams' cut as they go; 3 afresh
    assert len(made) == 1 + 2 + 3
