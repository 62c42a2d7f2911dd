import pytest
from openai import OpenAI

STEPS = {"name": "steps", "sequence": [{"reply": {"content": "first"}},
                                       {"reply": {"content": "second"}}]}


@pytest.mark.chat_emulator(scenarios=[STEPS], session="job-a")
def test_two_jobs_on_one_server(chat_emulator):
    # chat_emulator.base_url is http://127.0.0.1:PORT/session/job-a/v1
    job_a = OpenAI(base_url=chat_emulator.base_url, api_key=chat_emulator.api_key)
    other = chat_emulator.session("job-b")
    job_b = OpenAI(base_url=other.base_url, api_key=chat_emulator.api_key)

    def ask(client):
        reply = client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "next"}]
        )
        return reply.choices[0].message.content

    assert [ask(job_a), ask(job_b), ask(job_a)] == ["first", "first", "second"]
    assert [entry.session for entry in chat_emulator.requests] == ["job-a", "job-a"]
    chat_emulator.assert_called("steps", times=2)  # job-a's calls only
    other.assert_called("steps", times=1)
