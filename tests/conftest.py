"""Shared fixtures for the project's own tests (downstream users get `chat_emulator` instead)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.config import Config
from emulator.testing import EmulatorServer

# The time every fixture server reports, so whole responses compare byte for byte.
FIXED_TIME = 1735689600


@pytest.fixture(scope="session")
def shared_server() -> Iterator[EmulatorServer]:
    """One server for the whole session, reset before each test that asks for `server`."""
    with EmulatorServer(Config(fixed_time=FIXED_TIME)) as server:
        yield server


@pytest.fixture
def server(shared_server: EmulatorServer) -> EmulatorServer:
    """A fresh-state server: no scenarios, empty journal, default settings."""
    shared_server.reset()
    return shared_server


@pytest.fixture
def make_server() -> Iterator[Callable[..., EmulatorServer]]:
    """Start servers with a custom Config for one test; all are stopped afterwards."""
    started: list[EmulatorServer] = []

    def make(**config: Any) -> EmulatorServer:
        config.setdefault("fixed_time", FIXED_TIME)
        server = EmulatorServer(Config(**config)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
