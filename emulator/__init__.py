"""chat-emulator: an emulator of an LLM router's OpenAI-compatible Chat Completions API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Config", "EmulatorServer", "__version__", "create_app"]

if TYPE_CHECKING:
    from emulator.app import create_app
    from emulator.config import Config
    from emulator.testing import EmulatorServer


def __getattr__(name: str) -> Any:
    # Lazy: `import emulator` (e.g. by the pytest plugin) must not import aiohttp or the tokenizer.
    if name == "create_app":
        from emulator.app import create_app

        return create_app
    if name == "Config":
        from emulator.config import Config

        return Config
    if name == "EmulatorServer":
        from emulator.testing import EmulatorServer

        return EmulatorServer
    raise AttributeError(f"module 'emulator' has no attribute {name!r}")
