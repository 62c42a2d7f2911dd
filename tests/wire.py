"""Byte-level helpers for tests: raw HTTP requests and SSE event splitting."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

AUTH = {"Authorization": "Bearer sk-test"}


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[str]:
        """The SSE events of the body, split on blank lines (\\n framing)."""
        text = self.body.decode()
        assert text.endswith("\n\n"), f"stream does not end with a blank line: {text[-40:]!r}"
        return text[:-2].split("\n\n")

    def data(self) -> list[Any]:
        """The parsed `data:` payloads, `[DONE]` kept as the string."""
        out: list[Any] = []
        for event in self.events():
            if event.startswith("data: "):
                payload = event[len("data: ") :]
                out.append(payload if payload == "[DONE]" else json.loads(payload))
        return out


def request(
    url: str,
    method: str = "POST",
    path: str = "/v1/chat/completions",
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> RawResponse:
    """Send one request with http.client and read the whole (de-chunked) body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        all_headers = {"Content-Type": "application/json", **AUTH, **(headers or {})}
        all_headers = {k: v for k, v in all_headers.items() if v is not None}
        payload = (
            raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        )
        conn.request(method, path, body=payload, headers=all_headers)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def chat(url: str, **body: Any) -> RawResponse:
    body.setdefault("model", "openai/gpt-4o")
    body.setdefault("messages", [{"role": "user", "content": "What is the meaning of life?"}])
    return request(url, body=body)
