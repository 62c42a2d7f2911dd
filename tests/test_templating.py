"""The template language: what it reads, how it renders, and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from faker import Faker

from emulator.chatrequest import ChatRequest
from emulator.templating import FAKER_METHODS, parse_template, render_text, template_context

REQUEST = ChatRequest(
    body={
        "model": "openai/gpt-4o",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "What is the weather in Rome?"},
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
        "metadata": {"trace-id": "t-1"},
        "temperature": 0.5,
    }
)
CONTEXT = template_context(REQUEST, 3, "weather")


def faker(seed: int = 7) -> Faker:
    fake = Faker()
    fake.seed_instance(seed)
    return fake


def render(text: str, context: dict[str, Any] = CONTEXT) -> str:
    return parse_template(text).render(context, faker())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You said: {{ request.last_user_message }}", "You said: What is the weather in Rome?"),
        ("{{request.model}}", "openai/gpt-4o"),
        ("{{ request.system_message }}", "Be terse."),
        ("{{ request.messages[0].role }}/{{ request.messages[-1].role }}", "system/user"),
        ("{{ request.tool_names[0] }}", "get_weather"),
        ("{{ request.tool_names }}", '["get_weather"]'),
        ('{{ request.body.metadata["trace-id"] }}', "t-1"),
        ("{{ request.body.temperature }}", "0.5"),
        ("{{ request.stream }}", "false"),
        ("call {{ call_number }} of {{ scenario.name }}", "call 3 of weather"),
        ("{{ request.messages[0] }}", '{"role":"system","content":"Be terse."}'),
        ("{{ request.model | upper }}", "OPENAI/GPT-4O"),
        ("{{ request.system_message | lower | json }}", '"be terse."'),
        ("{{ request.tool_choice }}", ""),
        ("[{{ request.messages[9].content }}]", "[]"),
        ("{{ request.body.nope.deeper }}", ""),
        ("{{ '{{' }} literal {{ \"}\" }}", "{{ literal }"),
        ('{"a": {"b": 1}}', '{"a": {"b": 1}}'),
    ],
)
def test_render(text: str, expected: str) -> None:
    """Paths, indexes, keys, filters and literals render; missing values render as ''."""
    assert render(text) == expected


def test_is_static() -> None:
    """A template with only text and literals is static."""
    assert parse_template("plain {{ 'x' }} text").is_static
    assert not parse_template("{{ call_number }}").is_static
    assert not parse_template("{{ faker.name }}").is_static


def test_render_text_leaves_plain_text_alone() -> None:
    """render_text returns text without `{{` as it is, and renders the rest."""
    assert render_text("no braces }}", CONTEXT) == "no braces }}"
    assert render_text("{{ call_number }}", CONTEXT) == "3"


def test_faker_is_seeded_and_deterministic() -> None:
    """The same seed gives the same values; another seed gives others."""
    template = parse_template(
        "{{ faker.name }} {{ faker.uuid4 }} {{ faker.date }} {{ faker.iso8601 }}"
    )
    first = template.render(CONTEXT, faker(1))
    assert first == template.render(CONTEXT, faker(1))
    assert first != template.render(CONTEXT, faker(2))


def test_faker_dates_do_not_depend_on_today() -> None:
    """Date-like Faker values fall in fixed bounds, so they do not drift with the clock."""
    for seed in range(20):
        value = render_text("{{ faker.date }}", CONTEXT, faker(seed))
        assert "2000-01-01" <= value <= "2030-12-31"


@pytest.mark.parametrize("method", sorted(FAKER_METHODS))
def test_every_whitelisted_faker_method_gives_text(method: str) -> None:
    """Each whitelisted Faker method renders to non-empty text."""
    assert render(f"{{{{ faker.{method} }}}}")


def test_faker_needs_a_faker() -> None:
    """Rendering a faker expression without a Faker is a clear error."""
    with pytest.raises(ValueError, match="no Faker was given"):
        parse_template("{{ faker.name }}").render(CONTEXT)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{{ request.__class__ }}",
            (
                "name '__class__' is not allowed in {{ request.__class__ }} at column 1:"
                " names may not start with '_'"
            ),
        ),
        (
            "{{ request.body.__init__.__globals__ }}",
            (
                "name '__init__' is not allowed in {{ request.body.__init__.__globals__ }} at column 1:"
                " names may not start with '_'"
            ),
        ),
        (
            "{{ __import__ }}",
            (
                "name '__import__' is not allowed in {{ __import__ }} at column 1:"
                " names may not start with '_'"
            ),
        ),
        (
            "a {{ os.system }}",
            (
                "unknown name 'os' in {{ os.system }} at column 3;"
                " valid names: call_number, faker, request, scenario"
            ),
        ),
        (
            "{{ faker.seed_instance }}",
            "faker.seed_instance is not an allowed Faker method in {{ faker.seed_instance }}"
            " at column 1; allowed: " + ", ".join(sorted(FAKER_METHODS)),
        ),
        ("{{ faker.name() }}", "unexpected character '(' in {{ faker.name() }} at column 1"),
        (
            "{{ request.model.upper }}",
            "request.model has no fields or indexes in {{ request.model.upper }} at column 1",
        ),
        (
            "{{ request.headers }}",
            (
                "unknown field 'request.headers' in {{ request.headers }} at column 1; valid fields:"
                " request.body, request.last_user_message, request.messages, request.model,"
                " request.stream, request.system_message, request.tool_choice, request.tool_names"
            ),
        ),
        (
            "{{ call_number.real }}",
            "call_number is a number and has no fields in {{ call_number.real }} at column 1",
        ),
        (
            "{{ scenario.source }}",
            "use scenario.name in {{ scenario.source }} at column 1: it is the only field of scenario",
        ),
        (
            "{{ request.model | title }}",
            (
                "unknown filter 'title' in {{ request.model | title }} at column 1;"
                " valid filters: json, lower, upper"
            ),
        ),
        ("{{ 1 + 1 }}", "unexpected character '+' in {{ 1 + 1 }} at column 1"),
        ("{{ }}", "empty expression in {{ }} at column 1"),
        ("hi {{ request.model", "unclosed '{{' at column 4; write {{ '{{' }} for a literal '{{'"),
        ("{{ request..model }}", "unexpected '.' in {{ request..model }} at column 1"),
    ],
)
def test_rejected_templates(text: str, message: str) -> None:
    """Unsafe or malformed templates fail at parse time with a message saying what is wrong."""
    with pytest.raises(ValueError) as info:
        parse_template(text)
    assert str(info.value) == message


def test_context_is_plain_data() -> None:
    """template_context holds only dicts, lists and scalars, never the request object."""

    def plain(value: Any) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (str, int, float, bool))

    assert plain(CONTEXT)
    assert CONTEXT["request"]["tool_names"] == ["get_weather"]
