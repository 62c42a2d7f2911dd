import pytest
from openai import OpenAI


@pytest.mark.chat_emulator(scenarios=["scenarios/greeting.yaml"], strict=True, time_scale=0)
def test_only_scripted_requests(chat_emulator):
    client = OpenAI(base_url=chat_emulator.base_url, api_key=chat_emulator.api_key)

    reply = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "Hi"}]
    )

    assert reply.choices[0].message.content == "Hello!"
    assert chat_emulator.last_request.scenario == "greeting"


@pytest.mark.chat_emulator(seed=42)
def test_default_replies_are_reproducible(chat_emulator):
    client = OpenAI(base_url=chat_emulator.base_url, api_key=chat_emulator.api_key)
    ask = dict(model="openai/gpt-4o", messages=[{"role": "user", "content": "Tell me more"}])

    first = client.chat.completions.create(**ask).choices[0].message.content
    chat_emulator.reset()  # forgets scenarios, journal and marker settings
    chat_emulator.configure(seed=42)

    assert client.chat.completions.create(**ask).choices[0].message.content == first
