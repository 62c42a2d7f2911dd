from openai import OpenAI


def test_greeting(chat_emulator):
    chat_emulator.add({"name": "greeting", "reply": {"content": "Hello!"}})
    client = OpenAI(base_url=chat_emulator.base_url, api_key=chat_emulator.api_key)

    reply = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "Hi"}]
    )

    assert reply.choices[0].message.content == "Hello!"
    assert chat_emulator.last_request.body["model"] == "openai/gpt-4o"
