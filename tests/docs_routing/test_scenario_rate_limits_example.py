import openai
import pytest
from openai import OpenAI

LIMITED = """
name: three-a-minute
match: {model: openai/gpt-4o}
rate_limits: {rpm: 3}
reply: {content: Served.}
"""


def test_the_fourth_request_in_a_minute_is_refused(chat_emulator):
    chat_emulator.add(LIMITED)
    client = OpenAI(base_url=chat_emulator.base_url, api_key="sk-test", max_retries=0)
    hi = [{"role": "user", "content": "Hi"}]

    for _ in range(3):
        client.chat.completions.create(model="openai/gpt-4o", messages=hi)
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="openai/gpt-4o", messages=hi)

    assert refused.value.response.headers["x-ratelimit-limit"] == "3"
    assert refused.value.response.headers["x-ratelimit-remaining"] == "0"
    assert int(refused.value.response.headers["retry-after"]) <= 60

    chat_emulator.advance_clock(60)  # the minute is over on the emulator's clock
    reply = client.chat.completions.create(model="openai/gpt-4o", messages=hi)
    assert reply.choices[0].message.content == "Served."
