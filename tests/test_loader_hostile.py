"""Pathological scenario files and scenario text: every one is a `file:line: message`, never a
traceback, and the work each costs is bounded (nesting, regexes on RE2, text size, template
output)."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from emulator.errors import ScenarioError
from emulator.loader import MAX_FILE_BYTES, check_paths, load_paths, load_text
from emulator.matching import text_holds
from emulator.regex import compile_regex
from emulator.scenario import TextMatcher
from emulator.templating import MAX_OUTPUT_CHARS, TemplateTooLarge, parse_template
from emulator.testing import EmulatorServer


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("name: a\nreply: {content: x}\nmatch:\n  body: " + "[" * 500 + "]" * 500),
        pytest.param("name: a\nreply: {content: x}\nmatch:\n  body: " + "[" * 5000 + "]" * 5000),
        pytest.param(
            "name: a\nreply: {content: x}\nmatch:\n  body:\n"
            + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(500))
            + "  " * 502
            + "1\n"
        ),
    ],
    ids=["flow-500", "flow-5000", "block-500"],
)
def test_deeply_nested_file_is_a_file_line_error(text: str) -> None:
    """A file nested hundreds or thousands deep is refused with file:line, not a RecursionError."""
    with pytest.raises(ScenarioError, match=r"^deep\.yaml:\d+: .*nest") as info:
        load_text(text, "deep.yaml")
    assert info.value.line is not None


def test_nested_json_file_is_a_file_line_error(tmp_path: Path) -> None:
    """The same holds for a .json file, through load_paths and check_paths."""
    path = tmp_path / "deep.json"
    path.write_text('{"name": "a", "reply": {}, "match": {"body": ' + "[" * 800 + "]" * 800 + "}}")
    with pytest.raises(ScenarioError, match=r"deep\.json:1: .*nest"):
        load_paths([path])
    [problem] = check_paths([path])
    assert "deep.json:1: " in problem


def test_nesting_within_the_limit_loads() -> None:
    """Ordinary depth (a match body 50 levels deep) still loads."""
    body = "[" * 50 + "1" + "]" * 50
    [scenario] = load_text(f"name: a\nreply: {{content: x}}\nmatch:\n  body: {{k: {body}}}\n")
    assert scenario.match.body is not None


def test_backtracking_regex_loads_and_matches_on_re2() -> None:
    """`^(a+)+$` loads and answers at once against input that makes Python's `re` backtrack."""
    [scenario] = load_text(
        "name: a\nmatch:\n  last_user_message: {regex: '^(a+)+$'}\nreply: {content: x}\n"
    )
    matcher = scenario.match.last_user_message
    assert matcher is not None
    assert not text_holds(matcher, "a" * 5000 + "b")
    assert text_holds(matcher, "a" * 5000)


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        (r"(a)\1", "backreferences"),
        (r"(?P<x>a)(?P=x)", "named backreferences"),
        (r"foo(?=bar)", "lookahead"),
        (r"foo(?!bar)", "lookahead"),
        (r"(?<=a)b", "lookbehind"),
        (r"(?<!a)b", "lookbehind"),
        (r"(?>ab)", "atomic groups"),
        (r"a++", "possessive repeats"),
    ],
)
def test_regex_constructs_re2_lacks_are_refused_at_load(pattern: str, construct: str) -> None:
    """A construct RE2 does not have is refused with file:line, the construct and why."""
    text = f"name: a\nmatch:\n  model:\n    regex: '{pattern}'\nreply: {{content: x}}\n"
    with pytest.raises(ScenarioError) as info:
        load_text(text, "re.yaml")
    message = str(info.value)
    assert message.startswith(f"re.yaml:4: match.model.regex: bad regex {pattern!r}: ")
    assert f"RE2, which matches in linear time and so has no {construct}" in message


def test_end_of_text_anchor_hint() -> None:
    r"""Python's `\Z` gets a hint to RE2's `\z`."""
    with pytest.raises(ValueError, match=r"write \\z for the end of the text"):
        compile_regex(r"abc\Z")


def test_regex_operator_works_like_search() -> None:
    """Common patterns behave as a search: classes, case-insensitive flag, anchors."""
    assert text_holds(TextMatcher("regex", r"(?i)weather in \w+"), "What's the Weather in Paris?")
    assert not text_holds(TextMatcher("regex", r"^\d+$"), "12a")


def test_one_line_yaml_hints_at_data_binary() -> None:
    """A file flattened to one line (`curl -d @file`) gets a hint to use --data-binary."""
    flattened = "name: a reply:   content: hi"
    with pytest.raises(ScenarioError, match=r"curl --data-binary @file"):
        load_text(flattened, "upload")


def test_multi_line_yaml_errors_have_no_curl_hint() -> None:
    """An ordinary syntax error in a multi-line file does not mention curl."""
    with pytest.raises(ScenarioError) as info:
        load_text("name: a\nreply:\n  content: [unclosed\n", "f.yaml")
    assert "curl" not in str(info.value)


def test_text_over_the_file_limit_is_refused() -> None:
    """Scenario text over the 10 MiB file limit is refused before it is parsed."""
    text = "# " + "x" * MAX_FILE_BYTES + "\n"
    with pytest.raises(ScenarioError, match=r"^big: too large \(\d+ bytes; limit 10485760\)"):
        load_text(text, "big")


def test_template_output_is_capped() -> None:
    """Many copies of an expression over a large value stop at the cap instead of growing on."""
    template = parse_template("{{ request.body | json }}" * 100)
    context = {"request": {"body": {"text": "x" * (MAX_OUTPUT_CHARS // 50)}}}
    with pytest.raises(TemplateTooLarge, match="4,194,304 characters"):
        template.render(context)
    assert template.render(context, limit=10**9).count('"text"') == 100


def test_template_over_the_cap_is_a_422_in_the_envelope(server: EmulatorServer) -> None:
    """A reply template whose output passes the cap answers 422 naming the scenario, not a 500."""
    server.add({"name": "echo", "reply": {"content": "{{ request.last_user_message }}" * 100}})
    with (
        openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client,
        pytest.raises(openai.UnprocessableEntityError) as info,
    ):
        client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "y" * (MAX_OUTPUT_CHARS // 50)}],
        )
    error = info.value.body
    assert isinstance(error, dict)
    assert "scenario 'echo'" in error["message"] and "4,194,304 characters" in error["message"]
