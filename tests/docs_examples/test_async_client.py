from openai import AsyncOpenAI


async def test_streaming_in_an_async_test(chat_emulator):
    chat_emulator.add({"name": "story", "reply": {"content": "Once upon a time"}})

    async with AsyncOpenAI(base_url=chat_emulator.base_url, api_key="sk-test") as client:
        stream = await client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "A story"}], stream=True
        )
        text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream
                        if chunk.choices])

    assert text == "Once upon a time"
    entry = chat_emulator.last_request
    assert entry.stream and entry.outcome == "completed"
    assert [e.kind for e in entry.events][-2:] == ["done", "close"]
