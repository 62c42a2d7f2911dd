import openai
import pytest
from openai import OpenAI


def test_reproduce_a_cut_stream(chat_emulator, tmp_path):
    chat_emulator.add(
        {"name": "cut", "reply": {"content": "One two three", "stream": {"disconnect_after": 1}}}
    )
    client = OpenAI(base_url=chat_emulator.base_url, api_key="sk-test", max_retries=0)
    ask = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}

    with pytest.raises(openai.APIConnectionError):
        list(client.chat.completions.create(**ask, stream=True))
    played = [(e.kind, e.data) for e in chat_emulator.last_request.events if e.kind != "wait"]

    # The request, exported: a scenario file that plays exactly what was played.
    chat_emulator.export(name="cut-again", path=tmp_path / "cut-again.yaml")
    chat_emulator.reset()
    chat_emulator.load(tmp_path / "cut-again.yaml")

    with pytest.raises(openai.APIConnectionError):
        list(client.chat.completions.create(**ask, stream=True))
    assert chat_emulator.last_request.scenario == "cut-again"
    replayed = [(e.kind, e.data) for e in chat_emulator.last_request.events if e.kind != "wait"]
    assert replayed == played
