"""Server-wide chaos and normalisation from the pytest fixture: the marker's `chaos=...` (the
header's one-line syntax or a `chaos:` mapping) and `normalize=...`, and `configure(...)`, through
the openai SDK; chaos counted per session; a bad value is a setup error naming it (pytester)."""

from __future__ import annotations

import textwrap

# Imported before pytester's in-process runs (which drop what a run imports): kept fast.
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

import emulator.loader
import emulator.testing  # noqa: F401
from emulator.errors import ScenarioError
from emulator.testing import EmulatorServer

pytest_plugins = ["pytester"]

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
BURST = {"bursts": [{"fault": "error", "error": "rate_limited", "count": 1, "every": 2}]}


def status(server: EmulatorServer, base_url: str | None = None) -> int:
    """200, or the HTTP status of the SDK's error (default base URL: the fixture's)."""
    with openai.OpenAI(
        base_url=base_url or server.base_url, api_key=server.api_key, max_retries=0
    ) as client:
        try:
            client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)
        except openai.APIStatusError as exc:
            return exc.status_code
    return 200


@pytest.mark.chat_emulator(chaos="error:503=1")
def test_marker_chaos_in_the_header_syntax(chat_emulator: EmulatorServer) -> None:
    """chaos="error:503=1" fails every request of the test with a 503, said in the journal."""
    with pytest.raises(openai.InternalServerError):
        with openai.OpenAI(
            base_url=chat_emulator.base_url, api_key=chat_emulator.api_key, max_retries=0
        ) as client:
            client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)
    chaos = chat_emulator.last_request.chaos
    assert chaos is not None and chaos["reason"].startswith("server chaos: rate 1 of error")


@pytest.mark.chat_emulator(chaos=BURST)
def test_marker_chaos_as_a_mapping(chat_emulator: EmulatorServer) -> None:
    """A mapping like a scenario's chaos: key: one 429 at the start of every two requests."""
    assert [status(chat_emulator) for _ in range(4)] == [429, 200, 429, 200]


@pytest.mark.chat_emulator(chaos=BURST, session="job-a")
def test_chaos_counts_per_session(chat_emulator: EmulatorServer) -> None:
    """Each session counts its own requests: both sessions' first request is in the burst."""
    urls = [chat_emulator.base_url, chat_emulator.session("job-b").base_url]
    seen = [status(chat_emulator, url) for url in (urls[0], urls[1], urls[0])]
    assert seen == [429, 429, 200]


def test_configure_chaos_until_the_reset(server: EmulatorServer) -> None:
    """configure(chaos=...) applies to every request; reset() restores the config's (none)."""
    server.configure(chaos="error:rate_limited=1,seed=2")
    assert status(server) == 429
    server.reset()
    assert status(server) == 200


def test_configure_chaos_refuses_a_bad_spec(server: EmulatorServer) -> None:
    """A wrong spec is a ValueError (the header syntax) or a ScenarioError (a mapping)."""
    with pytest.raises(ValueError, match="rate 2 of error is not between 0 and 1"):
        server.configure(chaos="error=2")
    with pytest.raises(ScenarioError, match=r"missing required key 'rate' in chaos.rates\[0\]"):
        server.configure(chaos={"rates": [{"fault": "error"}]})


SPACED = {
    "name": "spaced",
    "match": {"last_user_message": "hello world"},
    "reply": {"content": "matched"},
}


def spaced(server: EmulatorServer) -> str:
    with openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0) as client:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": "  hello\n   world "}
        ]
        reply = client.chat.completions.create(model="openai/gpt-4o", messages=messages)
    return reply.choices[0].message.content or ""


@pytest.mark.chat_emulator(scenarios=[SPACED], normalize=["whitespace"])
def test_marker_normalize_applies_to_every_scenario(chat_emulator: EmulatorServer) -> None:
    """normalize=["whitespace"]: a scenario without its own normalize matches spaced text."""
    assert spaced(chat_emulator) == "matched"


def test_configure_normalize_until_the_reset(server: EmulatorServer) -> None:
    """configure(normalize="whitespace") matches; after reset() spacing decides again."""
    server.configure(normalize="whitespace")
    server.add(SPACED)
    assert spaced(server) == "matched"
    server.reset()
    server.add(SPACED)
    assert spaced(server) != "matched"
    with pytest.raises(ValueError, match="unknown rewrite\\(s\\) 'tabs'; valid: whitespace"):
        server.configure(normalize="tabs")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('chaos="error=2"', "*chaos=...): rate 2 of error is not between 0 and 1*"),
        (
            'chaos={"rates": [{"fault": "boom", "rate": 0.1}]}',
            "*chaos=...): <chaos>: *boom*",
        ),
        ("chaos=5", "*chaos=5 must be the X-Emulator-Chaos header's syntax or a mapping*"),
        ('normalize=["tabs"]', "*normalize=...): unknown rewrite(s) 'tabs'; valid: *"),
        ("normalize=5", "*normalize=5 must be True, False, a list of rewrites or a mapping*"),
    ],
    ids=["header-syntax", "mapping", "type", "normalize", "normalize-type"],
)
def test_a_bad_server_wide_option_is_a_setup_error(
    pytester: pytest.Pytester, value: str, message: str
) -> None:
    """A wrong chaos or normalize option errors at setup with a message naming the problem."""
    pytester.makeini(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
        "asyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    pytester.makepyfile(
        test_downstream=textwrap.dedent(
            f"""
            import pytest
            import emulator.loader
            import emulator.testing  # noqa: F401

            @pytest.mark.chat_emulator({value})
            def test_x(chat_emulator):
                pass
            """
        )
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])
