"""Start-up: what `chat-emulator serve` leaves for later, and that the first answers are the same
bytes either way (the figures are benchmarks/throughput.py's, not the suite's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from faker import Faker

from emulator import lorem

# Runs in a fresh interpreter: an app warmed up in the background (as `serve` makes it) with the
# warm-up held back, or one warmed up before serving (as the pytest fixture makes it), answers
# two requests; prints the bodies and which heavy modules were imported by then.
SCRIPT = """
import asyncio, json, sys
from aiohttp.test_utils import TestClient, TestServer
from emulator import app as app_module, tokens, warmup
from emulator.config import Config

MODE = sys.argv[1]
BACKGROUND = MODE in ("background", "idle")
# "background": the warm-up is held back past the answers; "idle": it runs once they are done.
warmup.FIRST_CHECK_S = 3600.0 if MODE == "background" else 0.01
BODIES = [
    {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hello there, it's me!"}]},
    {"model": "openai/gpt-4o", "stream": True, "messages": [{"role": "user", "content": "Hi"}]},
]

async def main():
    config = Config(seed=7, fixed_time=1700000000)
    app = app_module.create_app(config, background_warm_up=BACKGROUND)
    async with TestClient(TestServer(app)) as client:
        answers = []
        for body in BODIES:
            response = await client.post(
                "/v1/chat/completions", json=body, headers={"Authorization": "Bearer sk-test"}
            )
            answers.append((response.status, (await response.read()).decode()))
        heavy = sorted(
            m for m in ("faker", "jsonschema", "referencing", "tiktoken") if m in sys.modules
        )
        for _ in range(600):  # "idle": the thread builds the encoder (bounded wait, 60 s)
            if MODE != "idle" or tokens.ready():
                break
            await asyncio.sleep(0.1)
    print(json.dumps({"answers": answers, "heavy": heavy, "encoder": tokens.ready()}))

asyncio.run(main())
"""


def _run(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_background_warm_up_answers_the_same_bytes_without_the_heavy_imports() -> None:
    """An app warmed up in the background answers a plain request and a stream, before its
    tokenizer is built and without importing Faker, jsonschema, referencing or tiktoken, with
    the same bytes as an app whose tokenizer was built before serving."""
    background, before = _run("background"), _run("before")
    assert background["heavy"] == []
    assert background["encoder"] is False
    assert before["encoder"] is True
    assert background["answers"] == before["answers"]
    assert [status for status, _ in background["answers"]] == [200, 200]  # type: ignore[attr-defined]


def test_background_warm_up_builds_the_encoder_once_no_request_is_open() -> None:
    """After the first answers, with no request open, the background warm-up builds the
    tokenizer; answers stay the same bytes."""
    idle, before = _run("idle"), _run("before")
    assert idle["encoder"] is True
    assert idle["answers"] == before["answers"]


def test_lorem_vocabulary_is_fakers_en_us_word_list() -> None:
    """The copied lorem vocabulary is Faker's en_US word list, in Faker's order."""
    assert tuple(Faker("en_US").get_words_list()) == lorem.WORDS


def _scenario_documents() -> list[object]:
    """Every scenario file of the library (scenarios/), parsed, and each scenario alone."""
    import yaml

    root = Path(__file__).resolve().parent.parent / "scenarios"
    documents: list[object] = []
    for path in sorted(root.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        documents.append(data)
        if isinstance(data, dict) and isinstance(data.get("scenarios"), list):
            documents.extend(data["scenarios"])
    return documents


def _mutations(document: object) -> list[object]:
    """Broken variants of a scenario document: each key dropped, each value replaced by
    values of other types, an unknown key added; one level deep and in each scenario."""
    if not isinstance(document, dict):
        return []
    variants: list[object] = [{**document, "no-such-key": 1}]
    for key in document:
        variants.append({k: v for k, v in document.items() if k != key})
        for other in (None, 1, -1, 1.5, "x", "", [], [1], {}, {"a": 1}, True):
            variants.append({**document, key: other})
        value = document[key]
        if isinstance(value, dict):
            variants.extend({**document, key: inner} for inner in _mutations(value)[:40])
        if isinstance(value, list) and value and isinstance(value[0], dict):
            variants.extend({**document, key: [inner]} for inner in _mutations(value[0])[:40])
    return variants


def test_compiled_scenario_schema_check_agrees_with_jsonschema() -> None:
    """The compiled scenario-schema check (which lets a valid file skip jsonschema) says valid
    exactly when jsonschema does, on the library's files and over 4,000 broken variants."""
    import jsonschema

    from emulator.loader import scenario_schema
    from emulator.loader.explain import _compile_fast_check

    full = jsonschema.Draft202012Validator(scenario_schema())
    fast = _compile_fast_check()  # raises if the schema uses a keyword fastschema lacks
    documents = _scenario_documents()
    assert len(documents) > 40
    checked = 0
    for document in documents:
        for candidate in [document, *_mutations(document)]:
            assert fast(candidate) == full.is_valid(candidate), candidate
            checked += 1
    assert checked > 4000
