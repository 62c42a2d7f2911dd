"""The inspector page in a real browser: the journal live, filters, a stream's detail and its SVG
timeline, the actions (copy as curl, export, load, reset), and the admin token."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import BadRequestError, OpenAI
from playwright.sync_api import Browser, Page, expect

from emulator.config import Config
from emulator.testing import EmulatorServer

Shoot = Callable[[str], Path]
WORDS = "alpha beta gamma delta epsilon"
PACED = {
    "name": "paced",
    "match": {"last_user_message": {"contains": "paced"}},
    "reply": {"content": WORDS, "stream": {"ttft_ms": 120, "interval_ms": 60}},
}


@pytest.fixture
def sdk(server: EmulatorServer) -> Iterator[OpenAI]:
    """The openai SDK pointed at the emulator (closed after the test)."""
    with OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0) as client:
        yield client


def ask(sdk: OpenAI, text: str, **options: Any) -> Any:
    options.setdefault("model", "openai/gpt-4o")
    return sdk.chat.completions.create(messages=[{"role": "user", "content": text}], **options)


def open_inspector(page: Page, server: EmulatorServer, fragment: str = "") -> None:
    page.goto(f"{server.url}/_emulator/ui{fragment}")
    expect(page.locator("#connection")).to_have_text("live")


def rows(page: Page) -> Any:
    return page.locator("#requests tbody tr")


def test_requests_appear_live(
    server: EmulatorServer, sdk: OpenAI, page: Page, shoot: Shoot
) -> None:
    """Requests made with the openai SDK after the page loaded appear in the list as they end."""
    open_inspector(page, server)
    expect(page.locator("#empty")).to_be_visible()
    ask(sdk, "Hi")
    expect(rows(page)).to_have_count(1)
    server.add(PACED)
    stream = ask(sdk, "paced", stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == WORDS
    expect(rows(page)).to_have_count(2)
    newest = rows(page).first
    expect(newest.locator("td").nth(0)).to_have_text("2")
    expect(newest.locator("td").nth(2)).to_have_text("chat/completionsSSE")
    expect(newest.locator("td").nth(4)).to_have_text("paced")
    expect(newest.locator("td").nth(6)).to_have_text("completed")
    expect(rows(page).nth(1).locator("td").nth(5)).to_have_text("200")
    shoot("list")


def test_stream_timeline_has_one_mark_per_event(
    server: EmulatorServer, sdk: OpenAI, page: Page, shoot: Shoot
) -> None:
    """A stream's SVG has one mark per played event, sent and scheduled, each placed at its
    time relative to the others."""
    server.add(PACED)
    list(ask(sdk, "paced", stream=True))
    entry = server.last_request
    open_inspector(page, server, "#request=1")
    marks = page.locator("#timeline circle.mark")
    expect(marks).to_have_count(len(entry.events))
    sent = [(float(m["cx"]), float(m["ms"]), m["kind"]) for m in _marks(page, "circle.mark")]
    assert [(ms, kind) for _, ms, kind in sent] == [(e.t_ms, e.kind) for e in entry.events]
    _assert_proportional([cx for cx, _, _ in sent], [e.t_ms for e in entry.events])
    scheduled = [float(m["ms"]) for m in _marks(page, "circle.scheduled")]
    assert scheduled == _scheduled(entry.events)
    _assert_proportional([float(m["cx"]) for m in _marks(page, "circle.scheduled")], scheduled)
    kinds = [kind for _, _, kind in sent]
    assert kinds[:4] == ["head", "comment", "wait", "data"] and kinds[-2:] == ["done", "close"]
    expect(page.locator("#timing")).to_contain_text("TTFT (first data event)")
    expect(page.locator("#reply-0")).to_have_text(WORDS)
    shoot("timeline")
    page.locator("#show-raw").click()
    expect(page.locator("#action-text")).to_contain_text('data: {"id":"gen-')
    expect(page.locator("#action-text")).to_contain_text("data: [DONE]\\n")


def _marks(page: Page, selector: str) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        f"#timeline {selector}",
        "els => els.map(e => ({cx: e.getAttribute('cx'), ms: e.dataset.ms, kind: e.dataset.kind}))",
    )


def _scheduled(events: list[Any]) -> list[float]:
    """Each event's scheduled time: the sum of the waits before it (time scale 1)."""
    total, out = 0.0, []
    for event in events:
        if event.kind == "wait":
            total += float(event.data)
        out.append(round(total, 3))
    return out


def _assert_proportional(xs: list[float], times: list[float]) -> None:
    """x positions are an affine image of the times: same order, same relative distances."""
    span_x, span_t = xs[-1] - xs[0], times[-1] - times[0]
    assert span_x > 0 and span_t > 0
    for x, t in zip(xs, times, strict=True):
        assert (x - xs[0]) / span_x == pytest.approx((t - times[0]) / span_t, abs=1e-3)


def test_client_abort_is_marked(
    server: EmulatorServer, sdk: OpenAI, page: Page, shoot: Shoot
) -> None:
    """A stream the client closed early is `client_aborted`, with the abort drawn on it."""
    server.add(
        {
            "name": "slow",
            "reply": {"content": WORDS, "stream": {"ttft_ms": 50, "interval_ms": 5000}},
        }
    )
    open_inspector(page, server)
    stream = ask(sdk, "slow", stream=True)
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    stream.close()
    expect(rows(page).first.locator(".outcome")).to_have_text("client_aborted")
    rows(page).first.click()
    expect(page.locator("#abort-line")).to_have_count(1)
    expect(page.locator("#timing")).to_contain_text("client aborted at")
    shoot("aborted")


def test_filters(server: EmulatorServer, sdk: OpenAI, page: Page, shoot: Shoot) -> None:
    """Filtering by outcome, model, status and scenario keeps only the matching rows."""
    server.add({"name": "hello", "match": {"model": "anthropic/*"}, "reply": {"content": "Hi"}})
    ask(sdk, "one")
    list(ask(sdk, "two", model="anthropic/claude-sonnet-4.5", stream=True))
    with pytest.raises(BadRequestError):
        ask(sdk, "three", temperature=9)
    open_inspector(page, server)
    expect(rows(page)).to_have_count(3)
    page.select_option("#filter-outcome", "invalid")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.locator("td").nth(5)).to_have_text("400")
    shoot("invalid")
    page.select_option("#filter-outcome", "")
    page.select_option("#filter-model", "anthropic/claude-sonnet-4.5")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.locator("td").nth(4)).to_have_text("hello")
    page.select_option("#filter-model", "")
    page.select_option("#filter-scenario", "(none)")
    expect(rows(page)).to_have_count(2)
    page.select_option("#filter-status", "200")
    expect(rows(page)).to_have_count(1)
    assert "status=200" in page.evaluate("location.hash")


def test_range_link_from_a_test_report(
    server: EmulatorServer, sdk: OpenAI, page: Page, shoot: Shoot
) -> None:
    """`#from=N&to=M` (the link a kept pytest run prints) shows only those requests."""
    for text in ("one", "two", "three", "four"):
        ask(sdk, text)
    open_inspector(page, server, "#from=2&to=3")
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#range")).to_contain_text("Requests #2 to #3 only.")
    expect(rows(page).first.locator("td").first).to_have_text("3")
    page.locator("#range button").click()
    expect(rows(page)).to_have_count(4)


def test_export_as_scenario_replays_the_reply(
    server: EmulatorServer, sdk: OpenAI, page: Page, shoot: Shoot
) -> None:
    """Export gives the request as a scenario (shown and downloadable) that, loaded, answers
    the same request with the same reply."""
    first = ask(sdk, "Export me")
    open_inspector(page, server, "#request=1")
    page.locator("#export").click()
    expect(page.locator("#action-text")).to_contain_text("name:")
    shoot("export")
    exported = page.locator("#action-text").inner_text()
    with page.expect_download() as download:
        page.locator("#download").click()
    assert download.value.suggested_filename == "request-1.yaml"
    saved = Path(download.value.path()).read_text()
    assert saved.strip() == exported.strip()
    server.reset()
    server.add(saved)
    again = ask(sdk, "Export me")
    assert again.choices[0].message.content == first.choices[0].message.content


def test_detail_shows_problems_near_misses_and_folds_long_strings(
    server: EmulatorServer, sdk: OpenAI, page: Page, shoot: Shoot
) -> None:
    """The detail lists validation problems with their paths, near misses with their reasons,
    and folds long strings of the body until asked."""
    server.add(PACED)
    long_text = "x" * 1000
    ask(sdk, long_text)
    with pytest.raises(BadRequestError):
        ask(sdk, "bad", temperature=9)
    open_inspector(page, server, "#request=1")
    expect(page.locator("#matched")).to_contain_text("No scenario matched. Near misses (1)")
    expect(page.locator(".misses")).to_contain_text("paced")
    fold = page.locator("#request-body .fold")
    expect(fold).to_have_text("… (802 more characters)")
    shoot("near-miss")
    fold.click()
    expect(page.locator("#request-body")).to_contain_text(f'"{long_text}"')
    rows(page).filter(has_text="400").click()
    expect(page.locator(".problems li")).to_have_count(1)
    expect(page.locator(".problems li")).to_contain_text("temperature")
    shoot("problems")


def test_copy_as_curl_gives_the_same_reply(server: EmulatorServer, sdk: OpenAI, page: Page) -> None:
    """The copied curl command, run by a shell, gets the same reply as the SDK did."""
    server.add({"name": "fixed", "reply": {"content": "The same words, every time."}})
    first = ask(sdk, "Say it with 'quotes' and \"doubles\"")
    open_inspector(page, server, "#request=1")
    page.locator("#copy-curl").click()
    command = page.locator("#action-text").inner_text()
    assert page.evaluate("navigator.clipboard.readText()") == command
    env = {**os.environ, "OPENROUTER_API_KEY": server.api_key}
    done = subprocess.run(command, shell=True, capture_output=True, env=env, check=True, timeout=30)
    again = json.loads(done.stdout)
    assert again["choices"][0]["message"]["content"] == first.choices[0].message.content
    assert server.requests[1].body == server.requests[0].body
    expect(rows(page)).to_have_count(2)


def test_load_scenarios_then_reset(
    server: EmulatorServer, sdk: OpenAI, page: Page, shoot: Shoot, tmp_path: Path
) -> None:
    """A scenario file loads from the page and answers; reset empties the list and scenarios."""
    file = tmp_path / "greeting.yaml"
    file.write_text("name: greeting\nreply:\n  content: Hello from a file\n")
    open_inspector(page, server)
    page.set_input_files("#load-file", str(file))
    expect(page.locator("#notice")).to_have_text("Loaded from greeting.yaml: greeting")
    expect(page.locator("#scenario-count")).to_have_text("1")
    assert ask(sdk, "Hi").choices[0].message.content == "Hello from a file"
    expect(rows(page).first.locator("td").nth(4)).to_have_text("greeting")
    page.locator("#scenarios summary").click()
    expect(page.locator("#scenarios li")).to_contain_text("greeting 1 call(s)")
    shoot("loaded")
    page.locator("#keep-scenarios").uncheck()
    page.locator("#reset").click()
    expect(rows(page)).to_have_count(0)
    expect(page.locator("#scenario-count")).to_have_text("0")
    assert not server.emulator.state.scenarios


def test_admin_token_through_the_query(browser: Browser) -> None:
    """With an admin token, `?token=` opens the page, and the live list works on its cookie."""
    with (
        EmulatorServer(Config(admin_token="s3cret")) as server,
        OpenAI(base_url=server.base_url, api_key=server.api_key) as sdk,
    ):
        context = browser.new_context()
        page = context.new_page()
        response = page.goto(f"{server.url}/_emulator/ui")
        assert response is not None and response.status == 401
        page.goto(f"{server.url}/_emulator/ui?token=s3cret#request=1")
        assert page.url == f"{server.url}/_emulator/ui#request=1"
        expect(page.locator("#connection")).to_have_text("live")
        ask(sdk, "Hi")
        expect(rows(page)).to_have_count(1)
        expect(page.locator("#detail h2")).to_contain_text("#1 POST /v1/chat/completions")
        context.close()


def test_docs_screenshot(
    server: EmulatorServer, sdk: OpenAI, browser: Browser, screenshots: Path
) -> None:
    """The screenshot of docs/inspector.md (build/screenshots/inspector.png; copy it to docs/):
    a few requests of every outcome, a paced stream in detail."""
    server.add(
        {
            "name": "weather",
            "match": {"last_user_message": {"contains": "weather"}},
            "reply": {
                "content": "Sunny in Oslo, 21 degrees, with a light breeze from the west.",
                "stream": {"ttft_ms": 180, "interval_ms": {"min": 25, "max": 70}},
            },
        },
        {"name": "greeting", "match": {"model": "anthropic/*"}, "reply": {"content": "Hello!"}},
    )
    ask(sdk, "Hi there", model="anthropic/claude-sonnet-4.5")
    with pytest.raises(BadRequestError):
        ask(sdk, "Too hot", temperature=9)
    ask(sdk, "Tell me a story", model="openai/gpt-4o-mini")
    list(ask(sdk, "What is the weather in Oslo?", stream=True))
    context = browser.new_context(viewport={"width": 1280, "height": 760})
    page = context.new_page()
    page.goto(f"{server.url}/_emulator/ui#request=4")
    expect(page.locator("#timeline circle.mark")).to_have_count(len(server.requests[3].events))
    page.screenshot(path=str(screenshots / "inspector.png"))
    context.close()
