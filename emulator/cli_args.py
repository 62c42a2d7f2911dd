"""Argument types of the `chat-emulator` command: each refuses a bad value with a usage error that
names the valid range (argparse prints it with the usage line and exits with status 2)."""

from __future__ import annotations

import argparse
import ipaddress
import math
from collections.abc import Callable

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def whole(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A type for a whole number in [low, high] (None: unbounded on that side)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{value} is out of range: {_range(low, high)}")
        return value

    return parse


def number(low: float = 0.0, *, above: bool = False) -> Callable[[str], float]:
    """A type for a finite number >= low (> low with `above`)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value < low or (above and value == low):
            bound = f"> {low:g}" if above else f">= {low:g}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: a finite number {bound}")
        return value

    return parse


def log_level(text: str) -> str:
    """A logging level name, any case."""
    if text.upper() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"unknown log level {text!r}; valid levels: {', '.join(LOG_LEVELS)}"
        )
    return text.upper()


def token(text: str) -> str:
    """A non-empty secret (an empty admin token would refuse every admin request)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def is_loopback(host: str) -> bool:
    """Whether binding `host` serves only this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to a public address


def _range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f">= {low}"
    return f"<= {high}"
