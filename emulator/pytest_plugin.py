"""pytest plugin (registered through the `pytest11` entry point): the `chat_emulator` fixture.

Thin on purpose: it imports the server lazily, so merely having the package installed costs a
test run nothing until a test asks for the fixture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from emulator.testing import EmulatorServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "chat_emulator(scenarios=None, strict=None, seed=None, time_scale=None): "
        "options for the chat_emulator fixture of this test",
    )


@pytest.fixture(scope="session")
def chat_emulator_server() -> Iterator[EmulatorServer]:
    """One emulator server per test session (per xdist worker), reset for every test."""
    from emulator.testing import EmulatorServer

    with EmulatorServer() as server:
        yield server


@pytest.fixture
def chat_emulator(
    chat_emulator_server: EmulatorServer, request: pytest.FixtureRequest
) -> Iterator[EmulatorServer]:
    """A running emulator with fresh state: point any client at `chat_emulator.base_url`."""
    server = chat_emulator_server
    server.reset()
    marker = request.node.get_closest_marker("chat_emulator")
    if marker is not None:
        options = dict(marker.kwargs)
        scenarios = options.pop("scenarios", None) or ()
        server.configure(**options)
        if scenarios:
            server.load(*scenarios)
    yield server
    server.reset()
