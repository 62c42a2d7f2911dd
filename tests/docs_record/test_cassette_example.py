import os

import pytest
from openai import OpenAI


@pytest.mark.chat_emulator(cassette=True)
def test_weather_answer(chat_emulator):
    client = OpenAI(
        base_url=chat_emulator.base_url, api_key=os.environ.get("ROUTER_API_KEY", "sk-replay")
    )
    stream = client.chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        stream=True,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    assert text == "Sunny, 24 °C."
