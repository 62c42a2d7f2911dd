"""Python in the fixture, as a downstream project uses it (pytester): replies computed by a
callable (sync or async), assert_called, unused() and the teardown report of unused scenarios."""

from __future__ import annotations

import textwrap

# Imported before pytester's in-process runs (which drop what a run imports): kept fast.
import openai  # noqa: F401
import pytest

import emulator.loader
import emulator.testing  # noqa: F401

pytest_plugins = ["pytester"]

HELPERS = """
import pytest
import emulator.loader
import emulator.testing  # noqa: F401
from openai import OpenAI


def ask(emulator, text, **extra):
    with OpenAI(base_url=emulator.base_url, api_key=emulator.api_key, max_retries=0) as sdk:
        return sdk.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": text}], **extra
        )
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makeini(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
        "asyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    pytester.makepyfile(test_downstream=HELPERS + textwrap.dedent(body))
    return pytester.runpytest(*args)


def test_sync_callable_computes_the_reply(pytester: pytest.Pytester) -> None:
    """A function's reply mapping answers, and it sees the request."""
    result = run(
        pytester,
        """
        def test_echo(chat_emulator):
            def shout(request):
                return {"content": request.last_user_message.upper()}

            chat_emulator.add(shout)
            assert ask(chat_emulator, "hello").choices[0].message.content == "HELLO"
            assert chat_emulator.last_request.scenario == "shout"
            chat_emulator.assert_called("shout", times=1)
        """,
    )
    result.assert_outcomes(passed=1)


def test_async_callable_with_match_and_error(pytester: pytest.Pytester) -> None:
    """An async function may answer an error; `match` and `name` apply to it."""
    result = run(
        pytester,
        """
        import openai

        def test_quota(chat_emulator):
            async def quota(request):
                return {"error": "rate_limited"}

            chat_emulator.add(quota, name="quota", match={"last_user_message": "again"})
            with pytest.raises(openai.RateLimitError):
                ask(chat_emulator, "again")
            assert ask(chat_emulator, "other").choices[0].message.content
            chat_emulator.assert_called("quota", times=1)
        """,
    )
    result.assert_outcomes(passed=1)


def test_callable_streams_and_calls_tools(pytester: pytest.Pytester) -> None:
    """A callable's reply streams like any reply, tool calls included."""
    result = run(
        pytester,
        """
        TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}

        def test_tools(chat_emulator):
            chat_emulator.add(lambda request: {"tool_calls": [{"name": "f", "arguments": {}}]},
                              name="tools")
            sdk = OpenAI(base_url=chat_emulator.base_url, api_key=chat_emulator.api_key)
            with sdk:  # the stream is read before the client closes
                chunks = list(sdk.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}], stream=True,
                    tools=[TOOL],
                ))
            assert chunks[0].choices[0].delta.tool_calls[0].function.name == "f"
        """,
    )
    result.assert_outcomes(passed=1)


def test_a_raising_callable_is_a_500_in_the_report(pytester: pytest.Pytester) -> None:
    """A callable that raises answers 500 naming it; the test fails with that message."""
    result = run(
        pytester,
        """
        import openai

        def test_boom(chat_emulator):
            def boom(request):
                raise ValueError("no idea")

            chat_emulator.add(boom)
            with pytest.raises(openai.InternalServerError, match="its callable raised"):
                ask(chat_emulator, "x")
        """,
    )
    result.assert_outcomes(passed=1)


def test_assert_called_messages(pytester: pytest.Pytester) -> None:
    """assert_called names the actual count, and an unknown scenario's loaded ones."""
    result = run(
        pytester,
        """
        def test_counts(chat_emulator):
            chat_emulator.add({"name": "a", "reply": {"content": "x"}})
            ask(chat_emulator, "1")
            ask(chat_emulator, "2")
            chat_emulator.assert_called("a")
            chat_emulator.assert_called("a", times=2)
            with pytest.raises(AssertionError, match=r"'a' was called 2 time\\(s\\), expected 3"):
                chat_emulator.assert_called("a", times=3)
            with pytest.raises(AssertionError, match="no scenario named 'b'; loaded: a"):
                chat_emulator.assert_called("b")
        """,
    )
    result.assert_outcomes(passed=1)


UNUSED = """
def test_loads_two_uses_one(chat_emulator):
    chat_emulator.add({"name": "used", "match": {"last_user_message": "x"},
                       "reply": {"content": "x"}})
    chat_emulator.add({"name": "spare", "match": {"last_user_message": "y"},
                       "reply": {"content": "y"}})
    ask(chat_emulator, "x")
    assert chat_emulator.unused() == ["spare"]
"""


def test_unused_scenarios_get_a_summary_line(pytester: pytest.Pytester) -> None:
    """A passing test that left a scenario unused passes, with one summary line naming it."""
    result = run(pytester, UNUSED)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*chat_emulator: unused scenarios*",
            "test_downstream.py::test_loads_two_uses_one: chat_emulator: 1 scenario(s) loaded "
            "but never matched: 'spare' (<dict>)",
        ]
    )


def test_fail_on_unused_fails_the_test(pytester: pytest.Pytester) -> None:
    """With the marker's fail_on_unused=True, the same test errors at teardown."""
    marked = UNUSED.replace(
        "def test_loads", "@pytest.mark.chat_emulator(fail_on_unused=True)\ndef test_loads"
    )
    result = run(pytester, marked)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*1 scenario(s) loaded but never matched: 'spare'*"])


def test_every_scenario_used_prints_nothing(pytester: pytest.Pytester) -> None:
    """No summary section when every loaded scenario was matched."""
    result = run(
        pytester,
        UNUSED.replace(
            'ask(chat_emulator, "x")', 'ask(chat_emulator, "x")\n    ask(chat_emulator, "y")'
        ).replace('["spare"]', "[]"),
    )
    result.assert_outcomes(passed=1)
    assert "unused scenarios" not in result.stdout.str()
