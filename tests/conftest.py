"""Shared fixtures for the project's own tests (downstream users get `chat_emulator` instead)."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.config import Config
from emulator.testing import EmulatorServer

# The SDKs' HTTP stacks import their connection library lazily and cache its exception classes on
# first use (httpx2's HTTPCORE_EXC_MAP). Imported here, before any pytester in-process run (which
# drops the modules a run imports), so a first use inside such a run cannot leave a cache of
# dropped classes behind: later tests would get raw httpcore2.ReadError instead of
# openai.APIConnectionError, depending on which tests ran first.
for _library in ("httpcore", "httpcore2"):
    with contextlib.suppress(ImportError):  # an SDK release that does not use it
        importlib.import_module(_library)

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


@pytest.fixture(scope="module")
def live() -> Iterator[EmulatorServer]:
    """One server per test module, its clock stopped at FIXED_TIME and no waits (time scale 0):
    the routing, outage and rate-limit tests reason about the emulator's clock. Reset per test
    through `fresh`."""
    with EmulatorServer(Config(fixed_time=FIXED_TIME, time_scale=0)) as server:
        yield server


@pytest.fixture
def fresh(live: EmulatorServer) -> EmulatorServer:
    """The module's `live` server with fresh state (scenarios, journal, counters, clock)."""
    live.reset()
    return live


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
