import pytest
from openai import OpenAI, RateLimitError


@pytest.mark.chat_emulator(chaos="burst=error:429*2/10,seed=1")
def test_client_survives_a_burst_of_429s(chat_emulator):
    client = OpenAI(base_url=chat_emulator.base_url, api_key=chat_emulator.api_key,
                    max_retries=0)

    def ask():
        try:
            client.chat.completions.create(
                model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
            return "ok"
        except RateLimitError:
            return "429"

    assert [ask() for _ in range(4)] == ["429", "429", "ok", "ok"]
    assert chat_emulator.requests[0].chaos["reason"] == (
        "server chaos: burst of 2 error every 10 requests (1 of 2)"
    )
