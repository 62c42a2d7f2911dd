from pathlib import Path

from openai import OpenAI

SCENARIOS = Path(__file__).parent / "scenarios"


def test_client_retries_after_a_429(chat_emulator):
    chat_emulator.load(SCENARIOS / "rate-limited-then-ok.yaml")  # a file or a directory
    client = OpenAI(base_url=chat_emulator.base_url, api_key=chat_emulator.api_key, max_retries=2)

    reply = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "Hi"}]
    )

    assert reply.choices[0].message.content == "finally"
    first, second = chat_emulator.requests  # the journal, oldest first
    assert (first.status, second.status) == (429, 200)
    assert second.scenario == "rate-limited-then-ok"
    assert second.headers["authorization"] == "Bearer <redacted>"
    assert chat_emulator.scenario_calls() == {"rate-limited-then-ok": 2}


def test_add_takes_yaml_text_too(chat_emulator):
    chat_emulator.add(
        """
        name: weather
        match:
          tools: [get_weather]
        reply:
          tool_calls:
            - name: get_weather
              arguments: {city: Paris}
        """
    )
    client = OpenAI(base_url=chat_emulator.base_url, api_key=chat_emulator.api_key)
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}

    reply = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "Paris?"}], tools=[tool]
    )

    assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert chat_emulator.requests_for("weather")[0].body["tools"] == [tool]
