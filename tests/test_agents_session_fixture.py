"""Sessions from the pytest fixture: `@pytest.mark.chat_emulator(session=...)` binds the fixture's
journal view, sequence counters, quotas and teardown checks to one X-Emulator-Session, and
`chat_emulator.headers` puts a client in it; two sessions interleave on one server. Through the
openai SDK (sync and async), in this suite and as a downstream project sees it (pytester)."""

from __future__ import annotations

import textwrap

# Imported before pytester's in-process runs (which drop what a run imports): kept fast.
import openai
import pytest

import emulator.loader
import emulator.testing  # noqa: F401
from emulator.markeroptions import session_name
from emulator.testing import EmulatorServer

pytest_plugins = ["pytester"]

STEPS = {
    "name": "steps",
    "sequence": [{"reply": {"content": "first"}}, {"reply": {"content": "second"}}],
}
MESSAGES: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": "next"}]


def ask(
    server: EmulatorServer, headers: dict[str, str] | None = None, base_url: str | None = None
) -> str:
    """The reply to one request through the SDK (default base URL: the fixture's)."""
    with openai.OpenAI(
        base_url=base_url or server.base_url,
        api_key=server.api_key,
        max_retries=0,
        default_headers=headers,
    ) as client:
        completion = client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)
    return completion.choices[0].message.content or ""


def outside(server: EmulatorServer) -> str:
    """The server's plain base URL: requests to it are in no session (without the header)."""
    return server.url + "/v1"


# --- in this suite, with the plugin's own fixture ----------------------------------------------


@pytest.mark.chat_emulator(scenarios=[STEPS], session="job-a")
def test_marker_binds_the_fixture_to_a_session(chat_emulator: EmulatorServer) -> None:
    """With session="job-a", base_url and headers lead into it, and every view holds job-a's
    requests only."""
    assert chat_emulator.session_name == "job-a"
    assert chat_emulator.base_url == chat_emulator.url + "/session/job-a/v1"
    assert chat_emulator.headers == {"X-Emulator-Session": "job-a"}
    assert ask(chat_emulator) == "first"
    assert ask(chat_emulator, base_url=outside(chat_emulator)) == "first"  # its own partition
    assert ask(chat_emulator, chat_emulator.headers, outside(chat_emulator)) == "second"
    assert [e.session for e in chat_emulator.requests] == ["job-a", "job-a"]
    assert [e.call_number for e in chat_emulator.requests_for("steps")] == [1, 2]
    assert chat_emulator.last_request.seq == 3
    assert chat_emulator.scenario_calls() == {"steps": 2}
    chat_emulator.assert_called("steps", times=2)


@pytest.mark.chat_emulator(scenarios=[STEPS], session="job-a")
def test_two_sessions_interleaved_through_the_fixture(chat_emulator: EmulatorServer) -> None:
    """The fixture's session and a second one interleave: separate sequences and journals."""
    other = chat_emulator.session("job-b")
    mine = chat_emulator.base_url
    seen = [ask(chat_emulator, base_url=u) for u in (mine, other.base_url, mine, other.base_url)]
    assert seen == ["first", "first", "second", "second"]
    assert [e.seq for e in chat_emulator.requests] == [1, 3]
    assert [e.seq for e in other.requests] == [2, 4]
    assert other.last_request.body["messages"] == MESSAGES
    other.assert_called("steps", times=2)
    assert other.reset() == 2  # job-b starts over; job-a is untouched
    # job-a's sequence went on (its last step repeats) while job-b's started again.
    assert [ask(chat_emulator, other.headers, outside(chat_emulator)), ask(chat_emulator)] == [
        "first",
        "second",
    ]
    assert chat_emulator.scenario_calls() == {"steps": 3}


@pytest.mark.chat_emulator(session="job-a", rpm=1)
def test_the_sessions_quota_is_its_own(chat_emulator: EmulatorServer) -> None:
    """rpm=1 counts per session: job-a's second request is a 429, job-b still gets its one."""
    ask(chat_emulator)
    with pytest.raises(openai.RateLimitError):
        ask(chat_emulator)
    assert ask(chat_emulator, base_url=chat_emulator.session("job-b").base_url)
    assert [e.status for e in chat_emulator.requests] == [200, 429]


@pytest.mark.chat_emulator(session=True)
def test_session_true_is_named_after_the_test(
    chat_emulator: EmulatorServer, request: pytest.FixtureRequest
) -> None:
    """session=True names the session after the test's node id."""
    assert chat_emulator.session_name == request.node.nodeid
    ask(chat_emulator)  # the node id's "/" and "::" travel percent-encoded in the URL
    assert chat_emulator.last_request.session == request.node.nodeid


@pytest.mark.chat_emulator(scenarios=[STEPS], session="job-a")
async def test_async_sdk_with_the_session_headers(chat_emulator: EmulatorServer) -> None:
    """The async SDK's default_headers put its streamed requests in the fixture's session."""
    async with openai.AsyncOpenAI(
        base_url=outside(chat_emulator),
        api_key=chat_emulator.api_key,
        max_retries=0,
        default_headers=chat_emulator.headers,
    ) as client:
        stream = await client.chat.completions.create(
            model="openai/gpt-4o", messages=MESSAGES, stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "first"
    assert chat_emulator.last_request.session == "job-a"


def test_forgotten_headers_are_named(chat_emulator: EmulatorServer) -> None:
    """Bound to a session with no request of its own, last_request says what to send."""
    chat_emulator.use_session("job-a")
    ask(chat_emulator, base_url=outside(chat_emulator))
    with pytest.raises(AssertionError, match=r"1 request\(s\) came outside it: make clients"):
        _ = chat_emulator.last_request
    chat_emulator.reset()
    assert chat_emulator.session_name is None and chat_emulator.headers == {}


@pytest.mark.parametrize("name", ["", " padded", "x" * 129, "tab\there"])
def test_a_name_the_header_cannot_carry_is_refused(
    chat_emulator: EmulatorServer, name: str
) -> None:
    """use_session and session() refuse a name the header could not carry."""
    with pytest.raises(ValueError, match="1 to 128 printable characters"):
        chat_emulator.use_session(name)
    with pytest.raises(ValueError, match="1 to 128 printable characters"):
        chat_emulator.session(name)


def test_long_node_ids_keep_distinct_sessions() -> None:
    """A node id over 128 characters becomes a 128-character name ending in its hash."""
    first = session_name(True, "tests/test_x.py::test_y[" + "a" * 200 + "]")
    second = session_name(True, "tests/test_x.py::test_y[" + "a" * 199 + "b]")
    assert len(first) == len(second) == 128 and first != second
    assert first.startswith("tests/test_x.py::test_y[aaa")
    assert session_name("job-a", "ignored") == "job-a"


# --- as a downstream project sees it ---------------------------------------------------------

HELPERS = """
import pytest
import emulator.loader
import emulator.testing  # noqa: F401
from openai import OpenAI

GREETING = {"name": "greeting", "match": {"last_user_message": "Hi"},
            "reply": {"content": "Hello!"}}


def ask(emulator, text, headers=None, base_url=None):
    with OpenAI(base_url=base_url or emulator.base_url, api_key=emulator.api_key, max_retries=0,
                default_headers=headers) as sdk:
        try:
            return sdk.chat.completions.create(
                model="openai/gpt-4o", messages=[{"role": "user", "content": text}]
            ).choices[0].message.content
        except Exception as exc:
            return type(exc).__name__
"""


def run(pytester: pytest.Pytester, body: str) -> pytest.RunResult:
    pytester.makeini(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
        "asyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    pytester.makepyfile(test_downstream=HELPERS + textwrap.dedent(body))
    return pytester.runpytest()


def test_teardown_checks_only_the_session(pytester: pytest.Pytester) -> None:
    """In strict mode, another session's unmatched request does not fail the test; the
    session's own does, and the report counts the session's requests only."""
    result = run(
        pytester,
        """
        @pytest.mark.chat_emulator(scenarios=[GREETING], strict=True, session="job-a")
        def test_others_unmatched(chat_emulator):
            assert ask(chat_emulator, "Hi") == "Hello!"
            plain = chat_emulator.url + "/v1"  # outside any session
            assert ask(chat_emulator, "Hello", base_url=plain) == "NotFoundError"

        @pytest.mark.chat_emulator(scenarios=[GREETING], strict=True, session="job-a")
        def test_own_unmatched(chat_emulator):
            other = chat_emulator.session("job-b").base_url
            assert ask(chat_emulator, "Hi", base_url=other) == "Hello!"
            assert ask(chat_emulator, "Hello") == "NotFoundError"
        """,
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_own_unmatched*",
            "chat_emulator: 1 of 1 request was rejected by the emulator:",
            "request #2: POST /session/job-a/v1/chat/completions -> 404 no scenario matched",
        ]
    )


def test_unused_is_judged_per_session(pytester: pytest.Pytester) -> None:
    """fail_on_unused with a session: a scenario only another session used is unused here."""
    result = run(
        pytester,
        """
        @pytest.mark.chat_emulator(scenarios=[GREETING], session="job-a", fail_on_unused=True)
        def test_used_elsewhere(chat_emulator):
            assert ask(chat_emulator, "Hi", base_url=chat_emulator.url + "/v1") == "Hello!"
            assert chat_emulator.unused() == ["greeting"]
        """,
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*1 scenario(s) loaded but never matched: 'greeting'*"])


@pytest.mark.parametrize(
    "value", ['""', "' job'", "'x' * 129", "False", "3"], ids=["empty", "space", "long", "F", "3"]
)
def test_a_bad_session_option_is_a_setup_error(pytester: pytest.Pytester, value: str) -> None:
    """A session the header cannot carry errors at setup, saying what it must be."""
    result = run(
        pytester,
        f"""
        @pytest.mark.chat_emulator(session={value})
        def test_x(chat_emulator):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.chat_emulator: session=* must be True (a session named after the "
            "test) or 1 to 128 printable characters, no white space at the ends*"
        ]
    )
