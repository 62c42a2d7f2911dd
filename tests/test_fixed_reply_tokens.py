"""A scenario's fixed reply text is counted once per scenario, not per request, and the usage and
the max_tokens cut come out exactly as counting it every time gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from emulator import tokens
from emulator.chatrequest import ChatRequest
from emulator.generate import Budget, Draw, Generator, usage_for
from emulator.scenario import ChoiceSpec, Reply

# Longer than tokens.SHORT_CHARS: the count of such a text is not remembered by tokens.count.
LONG = "The quick brown fox jumps over the lazy dog while the cat watches. " * 60


def request(**body: Any) -> ChatRequest:
    return ChatRequest({"model": "openai/gpt-4o", "messages": [], **body})


def counting(monkeypatch: pytest.MonkeyPatch, text: str) -> list[int]:
    """Count the calls of tokens.count on `text` (and let them through)."""
    calls: list[int] = []
    real: Callable[[str], int] = tokens.count

    def spy(value: str) -> int:
        if value == text:
            calls.append(1)
        return real(value)

    monkeypatch.setattr(tokens, "count", spy)
    return calls


def test_long_fixed_text_is_counted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five requests for one scenario's long fixed reply count its text once, and each usage
    has its exact token count."""
    assert len(LONG) > tokens.SHORT_CHARS
    exact = tokens.count(LONG)
    calls = counting(monkeypatch, LONG)
    reply = Reply(choice=ChoiceSpec(content=LONG))
    generator = Generator()
    for serial in range(5):
        completion = generator.completion(reply, request(), Draw(0, 1, serial, "s"))
        assert completion.usage["completion_tokens"] == exact
    assert len(calls) == 1


@pytest.mark.parametrize("max_tokens", [None, 10, 840, 841, 842, 5000])
def test_known_count_cuts_as_counting_does(max_tokens: int | None) -> None:
    """With max_tokens below, at and above the text's count (841), the content, finish reason
    and usage (first and later requests) are those a count made per request gives."""
    assert tokens.count(LONG) == 841
    body = {} if max_tokens is None else {"max_tokens": max_tokens}
    budget = Budget(max_tokens)
    want_content = budget.fit(LONG)  # no known count: encoded and counted here
    reply = Reply(choice=ChoiceSpec(content=LONG))
    generator = Generator()
    for serial in range(2):
        got = generator.completion(reply, request(**body), Draw(3, 1, serial, "s"))
        assert got.choices[0].content == want_content
        assert got.choices[0].finish_reason == ("length" if budget.exhausted else "stop")
        assert got.usage == usage_for(request(**body), got.choices, None)


def test_usage_without_known_counts_counts_the_text() -> None:
    """usage_for with no known counts (or fewer than choices) counts every content itself."""
    reply = Reply(choice=ChoiceSpec(content="Hello there."), choices=None)
    completion = Generator().completion(reply, request(n=2), Draw(0, 1))
    plain = usage_for(request(n=2), completion.choices, None)
    partial = usage_for(
        request(n=2), completion.choices, None, None, [tokens.count("Hello there.")]
    )
    assert plain == partial == completion.usage
    assert plain["completion_tokens"] == 2 * tokens.count("Hello there.")


def test_templated_and_stopped_text_is_counted_as_sent() -> None:
    """A template's output and a text cut at a stop sequence are counted as sent, not as the
    scenario wrote them."""
    reply = Reply(choice=ChoiceSpec(content="Model {{ request.model }} says hi. STOP and more"))
    completion = Generator().completion(reply, request(stop=["STOP"]), Draw(0, 1))
    sent = completion.choices[0].content
    assert sent == "Model openai/gpt-4o says hi. "
    assert completion.usage["completion_tokens"] == tokens.count(sent)
