"""The pytest plugin as a downstream project sees it, run with pytest's own `pytester`: only the
public `chat_emulator` fixture and marker, no conftest (the entry point registers the plugin)."""

from __future__ import annotations

import textwrap
import time

# openai and the emulator are imported here, before pytester's in-process runs (which drop
# the modules a run imports), so that each inner run finds them loaded and stays fast.
import openai  # noqa: F401
import pytest

import emulator.loader
import emulator.testing  # noqa: F401

pytest_plugins = ["pytester"]

GREETING_YAML = """\
name: greeting
description: says hello back
match:
  last_user_message: Hi
reply:
  content: Hello!
"""
RETRY_YAML = """\
name: rate-limited-then-ok
sequence:
  - error: rate_limited
  - reply: {content: finally}
"""
# Shared by every downstream test file: an OpenAI client and a raw urllib poster.
HELPERS = """
import json
import urllib.error
import urllib.request

import pytest

# Imported here so that pytester's in-process runs find them loaded (it drops modules a run
# imports), keeping each inner run fast.
import emulator.loader
import emulator.testing  # noqa: F401
import openai  # noqa: F401
from openai import OpenAI


def client(emulator, retries=0):
    return OpenAI(base_url=emulator.base_url, api_key=emulator.api_key, max_retries=retries)


def ask(emulator, text, **extra):
    with client(emulator) as sdk:
        return sdk.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": text}], **extra
        )


BODY = {"model": "m", "messages": [{"role": "user", "content": "x"}]}


def post(emulator, body):
    request = urllib.request.Request(
        emulator.base_url + "/chat/completions", data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.load(exc)
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A downstream project: strict pytest settings, a scenarios directory, no conftest."""
    pytester.makeini(
        """
        [pytest]
        addopts = --strict-markers -p no:cacheprovider
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """
    )
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "greeting.yaml").write_text(GREETING_YAML)
    (pytester.path / "scenarios" / "retry.yaml").write_text(RETRY_YAML)
    return pytester


def run(project: pytest.Pytester, tests: str) -> pytest.RunResult:
    project.makepyfile(test_downstream=HELPERS + textwrap.dedent(tests))
    return project.runpytest()


def report_block(result: pytest.RunResult, first: str, count: int) -> list[str]:
    """`count` output lines from the one equal to `first`."""
    lines = result.stdout.lines
    assert first in lines, "\n".join(lines)
    start = lines.index(first)
    return lines[start : start + count]


def test_contract_example_passes(project: pytest.Pytester) -> None:
    """The issue's example: load a file, add a dict, a retrying client, journal assertions."""
    result = run(
        project,
        """
        def test_retry(chat_emulator):
            chat_emulator.load("scenarios/retry.yaml")
            chat_emulator.add({"name": "hi", "reply": {"content": "hello"}})
            with client(chat_emulator, retries=2) as sdk:
                reply = sdk.chat.completions.create(
                    model="openai/gpt-4o", messages=[{"role": "user", "content": "x"}]
                )
            assert reply.choices[0].message.content == "finally"
            req = chat_emulator.requests[-1]
            assert req.body["model"] == "openai/gpt-4o"
            assert req.scenario == "rate-limited-then-ok"
            assert req.status == 200
            assert len(chat_emulator.requests) == 2
            assert [r.status for r in chat_emulator.requests] == [429, 200]
        """,
    )
    result.assert_outcomes(passed=1)


def test_state_is_fresh_for_every_test(project: pytest.Pytester) -> None:
    """Scenarios, sequence counters and the journal start empty in every test."""
    result = run(
        project,
        """
        @pytest.mark.parametrize("round", [1, 2])
        def test_sequence_starts_over(chat_emulator, round):
            assert chat_emulator.requests == []
            chat_emulator.load("scenarios")
            assert post(chat_emulator, BODY)[0] == 429
            assert chat_emulator.requests[0].seq == 1
        """,
    )
    result.assert_outcomes(passed=2)


def test_add_yaml_string_and_journal_fields(project: pytest.Pytester) -> None:
    """add() takes YAML text; an entry has body, headers, stream, events, outcome and duration."""
    result = run(
        project,
        """
        def test_stream_journal(chat_emulator):
            chat_emulator.add("name: s\\nreply: {content: one two}\\n")
            with client(chat_emulator) as sdk:
                chunks = list(sdk.chat.completions.create(
                    model="openai/gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
                ))
            entry = chat_emulator.last_request
            assert (entry.method, entry.path) == ("POST", "/v1/chat/completions")
            assert entry.stream is True
            assert entry.headers["authorization"] == "Bearer <redacted>"
            assert entry.scenario == "s" and entry.status == 200
            assert entry.validation_errors == [] and entry.ignored_params == []
            assert entry.events[0].kind == "head" and entry.events[-1].kind == "close"
            assert [e.data for e in entry.events if e.kind == "done"] == ["data: [DONE]\\n\\n"]
            assert entry.client_aborted is False and entry.outcome == "completed"
            assert entry.duration_ms >= entry.events[-1].t_ms
        """,
    )
    result.assert_outcomes(passed=1)


def test_unmatched_request_fails_with_the_report(project: pytest.Pytester) -> None:
    """In strict mode a request no scenario matched fails the test at teardown, with a report."""
    result = run(
        project,
        """
        @pytest.mark.chat_emulator(scenarios=["scenarios/greeting.yaml"], strict=True)
        def test_greets(chat_emulator):
            with pytest.raises(Exception):
                ask(chat_emulator, "Hello")
        """,
    )
    result.assert_outcomes(passed=1, errors=1)
    assert report_block(
        result, "chat_emulator: 1 of 1 request was rejected by the emulator:", 12
    ) == [
        "chat_emulator: 1 of 1 request was rejected by the emulator:",
        "",
        "request #1: POST /v1/chat/completions -> 404 no scenario matched",
        '    body: {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}',
        "    answer:",
        "        - no scenario matched this request (strict mode)",
        "    closest scenarios (of 1 loaded), and why each did not match:",
        "        'greeting' (scenarios/greeting.yaml:1):",
        "            - last_user_message does not equal 'Hi' (was: 'Hello')",
        "",
        "(checked as the chat_emulator fixture tears down; a test that sends such requests",
        " on purpose can turn the check off: @pytest.mark.chat_emulator(check_requests=False))",
    ]
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_greets*"])


def test_invalid_request_fails_with_the_report(project: pytest.Pytester) -> None:
    """A request that failed validation fails the test, listing each problem with its path."""
    result = run(
        project,
        """
        def test_sends_garbage(chat_emulator):
            body = {"model": "openai/gpt-4o", "messages": [{"role": "usr", "content": "Hi"}],
                    "temperature": 9}
            assert post(chat_emulator, body)[0] == 400
            ask(chat_emulator, "fine")
        """,
    )
    result.assert_outcomes(passed=1, errors=1)
    assert report_block(
        result, "chat_emulator: 1 of 2 requests was rejected by the emulator:", 8
    ) == [
        "chat_emulator: 1 of 2 requests was rejected by the emulator:",
        "",
        "request #1: POST /v1/chat/completions -> 400 invalid request",
        (
            '    body: {"model": "openai/gpt-4o", "messages": [{"role": "usr", "content": "Hi"}], '
            '"temperature": 9}'
        ),
        "    problems:",
        "        - messages[0].role: must be one of: system, developer, user, assistant, tool",
        "        - temperature: must be at most 2",
        "",
    ]


def test_a_failed_test_keeps_its_own_failure(project: pytest.Pytester) -> None:
    """A test that failed on its own reports its failure, not the emulator's report."""
    result = run(
        project,
        """
        @pytest.mark.chat_emulator(strict=True)
        def test_breaks(chat_emulator):
            post(chat_emulator, BODY)
            assert 1 == 2, "the test's own failure"
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: the test's own failure*"])
    result.stdout.no_fnmatch_line("*rejected by the emulator*")


def test_skipped_test_is_not_checked(project: pytest.Pytester) -> None:
    """A test that skips itself after a rejected request stays skipped."""
    result = run(
        project,
        """
        @pytest.mark.chat_emulator(strict=True)
        def test_skips(chat_emulator):
            post(chat_emulator, BODY)
            pytest.skip("not today")
        """,
    )
    result.assert_outcomes(skipped=1)


def test_check_requests_false_turns_the_check_off(project: pytest.Pytester) -> None:
    """check_requests=False lets a test send rejected requests on purpose."""
    result = run(
        project,
        """
        @pytest.mark.chat_emulator(strict=True, check_requests=False)
        def test_expects_404(chat_emulator):
            assert post(chat_emulator, BODY)[0] == 404
        """,
    )
    result.assert_outcomes(passed=1)


def test_unmatched_is_fine_when_not_strict(project: pytest.Pytester) -> None:
    """Without strict mode an unmatched request gets the default reply and is not a problem."""
    result = run(
        project,
        """
        def test_default_reply(chat_emulator):
            chat_emulator.load("scenarios/greeting.yaml")
            assert ask(chat_emulator, "Hello").choices[0].message.content
            assert chat_emulator.last_request.scenario is None
        """,
    )
    result.assert_outcomes(passed=1)


def test_marker_options(project: pytest.Pytester) -> None:
    """scenarios (paths and dicts), seed and time_scale from the marker shape the fixture."""
    result = run(
        project,
        """
        import time
        SLOW = {"name": "slow", "match": {"last_user_message": "slow"},
                "reply": {"content": "late", "delay_ms": 30000}}
        seen = []

        @pytest.mark.chat_emulator(scenarios=["scenarios/greeting.yaml", SLOW], time_scale=0)
        def test_scenarios_and_time_scale(chat_emulator):
            assert ask(chat_emulator, "Hi").choices[0].message.content == "Hello!"
            started = time.monotonic()
            assert ask(chat_emulator, "slow").choices[0].message.content == "late"
            assert time.monotonic() - started < 5

        @pytest.mark.parametrize("run", [1, 2])
        @pytest.mark.chat_emulator(seed=7)
        def test_seed(chat_emulator, run):
            seen.append(ask(chat_emulator, "anything").choices[0].message.content)

        def test_same_seed_same_text():
            assert len(seen) == 2 and seen[0] == seen[1]
        """,
    )
    result.assert_outcomes(passed=4)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            "stict=True",
            (
                "@pytest.mark.chat_emulator: unknown option(s) stict; valid: scenarios, strict, "
                "seed, time_scale, check_requests, catalog, generation_lag_ms, "
                "generation_lag_polls, catalog_strict, rpm, rpd, tpm, record, cassette, "
                "fail_on_unused, session, chaos, normalize"
            ),
        ),
        (
            "time_scale='fast'",
            (
                "@pytest.mark.chat_emulator: time_scale='fast' must be a number >= 0 "
                "(0: no waits at all)"
            ),
        ),
        (
            "scenarios=['scenarios/missing.yaml']",
            (
                "@pytest.mark.chat_emulator(scenarios=...): scenarios/missing.yaml: "
                "no such file or directory"
            ),
        ),
    ],
    ids=["unknown-option", "bad-value", "missing-file"],
)
def test_bad_marker_is_a_setup_error(project: pytest.Pytester, marker: str, message: str) -> None:
    """A wrong marker option errors at setup with a message naming it and the valid choices."""
    result = run(
        project,
        f"""
        @pytest.mark.chat_emulator({marker})
        def test_x(chat_emulator):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    assert message in result.stdout.lines


def test_broken_scenario_in_marker_names_file_and_line(project: pytest.Pytester) -> None:
    """A scenario file the loader rejects errors at setup with its file:line message."""
    (project.path / "scenarios" / "broken.yaml").write_text("name: b\nreply:\n  contnt: x\n")
    result = run(
        project,
        """
        @pytest.mark.chat_emulator(scenarios=["scenarios/broken.yaml"])
        def test_x(chat_emulator):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    expected = "@pytest.mark.chat_emulator(scenarios=...): scenarios/broken.yaml:3: unknown key"
    result.stdout.fnmatch_lines([expected + " 'contnt'*"])


def test_open_stream_does_not_hang_teardown(project: pytest.Pytester) -> None:
    """A stream the test leaves open is cancelled at teardown; the next test is unaffected."""
    result = run(
        project,
        """
        import http.client
        import time

        left_open = []
        SLOW = {"name": "slow", "reply": {"content": "word " * 500, "stream": {"interval_ms": 100}}}

        def test_leaves_a_stream_open(chat_emulator):
            chat_emulator.add(SLOW)
            conn = http.client.HTTPConnection("127.0.0.1", chat_emulator.port, timeout=10)
            headers = {"Authorization": "Bearer k", "Content-Type": "application/json"}
            body = json.dumps({**BODY, "stream": True})
            conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
            response = conn.getresponse()
            assert response.readline().startswith(b":")
            left_open.append((conn, response, time.monotonic()))

        def test_next_test_is_unaffected(chat_emulator):
            conn, response, ended = left_open.pop()
            assert time.monotonic() - ended < 5
            assert chat_emulator.requests == [] and chat_emulator.scenario_calls() == {}
            assert ask(chat_emulator, "Hi").choices[0].message.content
            try:  # the server cut the stream at teardown: it ends without its last chunk
                rest = response.read()
            except http.client.IncompleteRead as exc:
                rest = exc.partial
            assert b"[DONE]" not in rest
            conn.close()
        """,
    )
    started = time.monotonic()
    result.assert_outcomes(passed=2)
    assert time.monotonic() - started < 10


def test_strict_scenario_unknown_parameter_is_reported(project: pytest.Pytester) -> None:
    """A strict scenario refusing an unknown parameter fails the test with the answer's reason."""
    result = run(
        project,
        """
        @pytest.mark.chat_emulator(scenarios=[{"name": "exact", "strict": True, "reply": {}}])
        def test_unknown_param(chat_emulator):
            body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "temprature": 1}
            assert post(chat_emulator, body)[0] == 400
        """,
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "request #1: POST /v1/chat/completions -> 400 unknown parameters (scenario 'exact')",
            "    answer:",
            "        - temprature: unknown parameter (strict mode); did you mean 'temperature'?",
        ]
    )


def test_async_test_with_async_client(project: pytest.Pytester) -> None:
    """An async test (pytest-asyncio) uses the same fixture with AsyncOpenAI, no deadlock."""
    result = run(
        project,
        """
        from openai import AsyncOpenAI

        @pytest.mark.asyncio
        @pytest.mark.chat_emulator(scenarios=["scenarios/greeting.yaml"], strict=True)
        async def test_async(chat_emulator):
            async with AsyncOpenAI(base_url=chat_emulator.base_url, api_key="k") as sdk:
                reply = await sdk.chat.completions.create(
                    model="openai/gpt-4o", messages=[{"role": "user", "content": "Hi"}]
                )
            assert reply.choices[0].message.content == "Hello!"
        """,
    )
    result.assert_outcomes(passed=1)


def test_rejected_request_dropped_from_the_journal_still_fails(project: pytest.Pytester) -> None:
    """One invalid request, then 1,000 valid ones (past the journal limit): the teardown report
    still fails the test and says the rejected request left the journal."""
    result = run(
        project,
        """
        import http.client

        def test_many(chat_emulator):
            conn = http.client.HTTPConnection("127.0.0.1", chat_emulator.port, timeout=10)
            headers = {"Authorization": "Bearer k", "Content-Type": "application/json"}
            for body in [{"model": "m"}] + [BODY] * 1000:
                conn.request("POST", "/v1/chat/completions", json.dumps(body), headers)
                conn.getresponse().read()
            conn.close()
            assert chat_emulator.dropped_requests == 1
            assert chat_emulator.problems() == []
        """,
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*chat_emulator: 1 of 1001 requests was rejected by the emulator:*",
            "*1 of them left the journal since (journal limit); the first:*",
            "request #1: POST /v1/chat/completions -> 400 invalid request",
            "*- messages: required*",
        ]
    )
