import pytest
from openai import NotFoundError, OpenAI


@pytest.mark.chat_emulator(scenarios=["scenarios/greeting.yaml"], strict=True)
def test_says_hello(chat_emulator):
    client = OpenAI(base_url=chat_emulator.base_url, api_key="sk-test", max_retries=0)

    with pytest.raises(NotFoundError):  # the client's own error handling is fine ...
        client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "Hello"}]
        )
