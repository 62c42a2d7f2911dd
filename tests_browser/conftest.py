"""Fixtures for the inspector's browser tests: Debian's Chromium driven by Playwright (nothing is
downloaded: Playwright is pointed at the system browser), one emulator per session.

Run with `pytest tests_browser` (see the README); `CHAT_EMULATOR_CHROMIUM` names another browser
binary, `CHAT_EMULATOR_SCREENSHOTS` the folder screenshots go to (default build/screenshots).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from emulator.config import Config
from emulator.testing import EmulatorServer

CHROMIUM = os.environ.get("CHAT_EMULATOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(
    os.environ.get(
        "CHAT_EMULATOR_SCREENSHOTS", Path(__file__).resolve().parents[1] / "build" / "screenshots"
    )
)
# Playwright's waits (for a row, a mark) give up after this long: a failing test ends, never hangs.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The system's Chromium, headless."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install it (apt-get install -y chromium) "
            "or set CHAT_EMULATOR_CHROMIUM",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def shared_server() -> Iterator[EmulatorServer]:
    """One emulator for the session, reset for every test."""
    with EmulatorServer(Config()) as server:
        yield server


@pytest.fixture
def server(shared_server: EmulatorServer) -> EmulatorServer:
    """A fresh-state emulator."""
    shared_server.reset()
    return shared_server


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A new page (its own cookies and clipboard permission) at a desktop size."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"the page raised: {errors}"


@pytest.fixture
def screenshots() -> Path:
    """The folder screenshots go to (created)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def shoot(page: Page, request: pytest.FixtureRequest) -> Iterator[object]:
    """`shoot(name)` saves a full-page screenshot named after the test and `name`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path

    yield take
