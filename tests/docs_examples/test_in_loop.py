import emulator
from emulator.loader import load_data
from emulator.runtime import Emulator


async def test_in_the_tests_loop(aiohttp_client):
    config = emulator.Config(strict=True, time_scale=0)
    state = Emulator(config, load_data({"name": "greeting", "reply": {"content": "Hello!"}}))
    client = await aiohttp_client(emulator.create_app(config, emulator=state))

    response = await client.post(
        "/v1/chat/completions",
        json={"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hi"}]},
        headers={"Authorization": "Bearer sk-test"},
    )

    assert (await response.json())["choices"][0]["message"]["content"] == "Hello!"
    assert [entry.scenario for entry in state.journal.entries()] == ["greeting"]
