"""One frozen configuration object for a server: where it binds, what it loads, how it behaves."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .chaos import Chaos
    from .normalize import Normalize

USAGE_CHUNK_SHAPES = ("empty_choices", "openrouter", "none")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_SEED = 0
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
DEFAULT_JOURNAL_LIMIT = 1000
DEFAULT_KEEPALIVE_TEXT = "OPENROUTER PROCESSING"
DEFAULT_CREDITS = 100.0
DEFAULT_JOURNAL_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_REQUEST_BUDGET_MS = 2000.0
DEFAULT_IDLE_TIMEOUT_MS = 15_000.0
DEFAULT_MAX_CONNECTIONS = 1000


@dataclass(frozen=True)
class Config:
    """Everything a server needs to know; build it once, never mutate it (use `replace`)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    scenario_paths: tuple[str, ...] = ()
    seed: int = DEFAULT_SEED
    # Multiplies every wait of every timeline; 0 plays timelines with no waits at all.
    time_scale: float = 1.0
    # Strict mode: unknown request parameters are a 400, and a request that matches no
    # scenario is a 404 instead of the built-in default reply.
    strict: bool = False
    # Accepted API keys; empty means any non-empty bearer token is accepted.
    api_keys: tuple[str, ...] = ()
    # Token required on /_emulator/* (header `Authorization: Bearer <token>`); None: open.
    admin_token: str | None = None
    journal_limit: int = DEFAULT_JOURNAL_LIMIT
    # About how many bytes the journal may hold (headers, bodies, played events); the oldest
    # entries are dropped beyond it, and counted. 0: no byte bound.
    journal_max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES
    # Wall-clock ms one request may spend parsing and validating its body (413 beyond) or
    # generating its reply (422 beyond), in a worker thread off the event loop.
    request_budget_ms: float = DEFAULT_REQUEST_BUDGET_MS
    # A connection that has not sent a complete request head for this long (after opening, or
    # after its last response) is closed; a request body that stalls this long gets a 408.
    idle_timeout_ms: float = DEFAULT_IDLE_TIMEOUT_MS
    # Open connections beyond this are closed as soon as they are accepted (logged once).
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Shape of the final usage chunk of a stream (docs/wire-format.md).
    usage_chunk: str = "empty_choices"
    # The keep-alive comment sent right after the headers of every stream, and repeated every
    # `keepalive_ms` while the first chunk is pending. 0 disables the repeats.
    keepalive_text: str = DEFAULT_KEEPALIVE_TEXT
    keepalive_ms: float = 0.0
    # Unix time used for `created` and generation ids; None: the wall clock. Fixing it makes
    # whole responses byte-identical across runs.
    fixed_time: int | None = None
    # Validate requests against the schemas; off only to measure what validation costs.
    validate: bool = True
    # Reload scenario files when they change.
    watch: bool = False
    # Extra model ids for GET /v1/models, beside the catalog and the scenarios' models.
    models: tuple[str, ...] = ()
    # `serve --workers N`: processes sharing the port; `worker` is this process's index (0-based).
    workers: int = 1
    worker: int = 0
    # Catalog files (docs/catalog.md) applied in order over the built-in model catalog.
    catalog_paths: tuple[str, ...] = ()
    # The account's credits (USD) reported by GET /credits, and each key's spending limit
    # (USD) reported by GET /key; None: no limit.
    credits: float = DEFAULT_CREDITS
    key_limit: float | None = None
    # Generation stats lag: GET /generation answers 404 until the generation ended this many
    # milliseconds ago (scaled by time_scale) and was polled this many times, as the router's
    # stats appear a moment after the response.
    generation_lag_ms: float = 0.0
    generation_lag_polls: int = 0
    # Seeded fault injection for every request (a scenario's or the request header's own spec
    # takes precedence); None: none.
    chaos: Chaos | None = None
    # Normalisation before matching for scenarios without their own `normalize`; None: none.
    normalize: Normalize | None = None
    # Routing: a model missing from the catalog is the router's 400 model_not_found.
    catalog_strict: bool = False
    # Per-key quotas (requests per minute and per UTC day, tokens per minute); None: no limit.
    # Free variants always have the router's free-tier limits.
    rpm: int | None = None
    rpd: int | None = None
    tpm: int | None = None
    # Recording (serve --record): the record mode (None: no recording), the upstream's base URL,
    # the cassette (a .yaml file, or a directory of one file per recording), extra JSON fields
    # to redact. See emulator/cassette.py for the modes.
    record_mode: str | None = None
    upstream: str | None = None
    cassette: str | None = None
    redact_fields: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def replace(self, **changes: Any) -> Config:
        """A copy with `changes` applied."""
        return dataclasses.replace(self, **changes)
