"""The router's side endpoints over HTTP: /models, /models/count, the endpoints list, /key,
/credits and /generation, each body valid against the router's published schema (the reduced
copy in tests/spec/catalog-schemas.json), at both /api/v1 and /v1; catalog files from the CLI,
the admin API and the fixture; the generation stats lag."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXED_TIME
from jsonschema import Draft202012Validator
from wire import RawResponse, chat, request

from emulator.cli import main as cli_main
from emulator.config import Config
from emulator.testing import EmulatorServer

SPEC = Path(__file__).parent / "spec" / "catalog-schemas.json"
PREFIXES = ("/api/v1", "/v1")
EXTRA_CATALOG = """\
models:
  - id: acme/rocket-1
    name: "Acme: Rocket 1"
    pricing: {prompt: "0.000001", completion: "0.000002"}
    endpoints:
      - {provider: Together, tag: together/fp8, quantization: fp8}
"""


@functools.cache
def validator(operation: str) -> Draft202012Validator:
    """A validator for `operation`'s 200 body, refs resolved inside the reduced spec."""
    document = json.loads(SPEC.read_text(encoding="utf-8"))
    return Draft202012Validator({**document, "$ref": f"#/operations/{operation}"})


def conforms(operation: str, body: Any) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator(operation).iter_errors(body)
    ]
    assert not errors, "\n".join(errors[:10])


def get(server: EmulatorServer, path: str) -> RawResponse:
    return request(server.url, method="GET", path=path)


@pytest.fixture(scope="module")
def live() -> Iterator[EmulatorServer]:
    """One server for the module's HTTP tests (reset by `fresh`)."""
    with EmulatorServer(Config(fixed_time=FIXED_TIME, time_scale=0, key_limit=10.0)) as server:
        yield server


@pytest.fixture
def fresh(live: EmulatorServer) -> EmulatorServer:
    """The module's server with fresh state."""
    live.reset()
    return live


@pytest.mark.parametrize("prefix", PREFIXES)
def test_models_list_conforms_to_the_spec(fresh: EmulatorServer, prefix: str) -> None:
    """GET /models is the catalog in the spec's ModelsListResponse shape, at both prefixes."""
    response = get(fresh, f"{prefix}/models")
    assert response.status == 200
    body = response.json()
    conforms("getModels", body)
    assert body["total_count"] == len(body["data"]) >= 30
    assert body["links"] == {"next": None}


def test_models_lists_the_models_scenarios_name(fresh: EmulatorServer) -> None:
    """A model named only by a loaded scenario is listed too, with default data."""
    fresh.add({"name": "acme", "match": {"model": "acme/secret-1"}, "reply": {"content": "hi"}})
    body = get(fresh, "/api/v1/models?q=secret").json()
    conforms("getModels", body)
    assert [m["id"] for m in body["data"]] == ["acme/secret-1"]


def test_models_filters_sort_and_page(fresh: EmulatorServer) -> None:
    """The query filters, sorts and pages; links.next names the next page."""
    body = get(fresh, "/api/v1/models?model_authors=openai&sort=newest&limit=3&offset=0").json()
    conforms("getModels", body)
    assert [m["id"][:7] for m in body["data"]] == ["openai/"] * 3
    assert (
        body["links"]["next"] == "/api/v1/models?model_authors=openai&sort=newest&offset=3&limit=3"
    )
    created = [m["created"] for m in body["data"]]
    assert created == sorted(created, reverse=True)


def test_models_bad_query_is_a_400(fresh: EmulatorServer) -> None:
    """A bad filter value is a 400 in the router's envelope naming the parameter."""
    response = get(fresh, "/api/v1/models?sort=cheapest")
    assert response.status == 400
    assert response.json()["error"]["code"] == 400
    assert "'sort'" in response.json()["error"]["message"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_models_count(fresh: EmulatorServer, prefix: str) -> None:
    """GET /models/count counts what /models lists for the same filter."""
    body = get(fresh, f"{prefix}/models/count").json()
    conforms("listModelsCount", body)
    assert body["data"]["count"] == get(fresh, "/v1/models").json()["total_count"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_model_endpoints_conform_to_the_spec(fresh: EmulatorServer, prefix: str) -> None:
    """GET /models/{author}/{slug}/endpoints lists the model's providers in the spec's shape."""
    body = get(fresh, f"{prefix}/models/meta-llama/llama-3.3-70b-instruct/endpoints").json()
    conforms("listEndpoints", body)
    endpoints = body["data"]["endpoints"]
    assert [e["tag"] for e in endpoints][:2] == ["deepinfra/turbo", "deepinfra/bf16"]
    assert {"name", "pricing", "quantization", "uptime_last_30m", "latency_last_30m"} <= set(
        endpoints[0]
    )


def test_every_catalog_model_conforms(fresh: EmulatorServer) -> None:
    """Every built-in model's endpoints list is valid against the spec."""
    for model in get(fresh, "/api/v1/models?output_modalities=all").json()["data"]:
        conforms("listEndpoints", get(fresh, model["links"]["details"]).json())


def test_unknown_model_endpoints_is_a_404(fresh: EmulatorServer) -> None:
    """A model the catalog lacks has no endpoints list: 404 in the envelope."""
    response = get(fresh, "/api/v1/models/acme/nothing/endpoints")
    assert response.status == 404
    assert response.json()["error"]["message"] == "Model 'acme/nothing' not found in the catalog"


def test_key_and_credits_grow_with_what_was_served(fresh: EmulatorServer) -> None:
    """/key usage and /credits total_usage add up the cost of each served generation."""
    before = get(fresh, "/api/v1/key").json()
    conforms("getCurrentKey", before)
    assert before["data"]["usage"] == 0
    costs = []
    for _ in range(2):
        completion_id = chat(fresh.url, model="anthropic/claude-3.5-sonnet").json()["id"]
        costs.append(
            get(fresh, f"/api/v1/generation?id={completion_id}").json()["data"]["total_cost"]
        )
    key = get(fresh, "/v1/key").json()
    conforms("getCurrentKey", key)
    assert key["data"]["usage"] == pytest.approx(sum(costs))
    assert key["data"]["usage_daily"] == key["data"]["usage_monthly"] == key["data"]["usage"]
    assert key["data"]["limit"] == 10.0
    assert key["data"]["limit_remaining"] == pytest.approx(10.0 - sum(costs))
    assert key["data"]["label"] == "sk-test"[:3] + "..."
    credits = get(fresh, "/api/v1/credits").json()
    conforms("getCredits", credits)
    assert credits["data"] == {"total_credits": 100.0, "total_usage": pytest.approx(sum(costs))}


@pytest.mark.parametrize("stream", [False, True])
def test_generation_conforms_to_the_spec(fresh: EmulatorServer, stream: bool) -> None:
    """GET /generation has every required field of the spec's GenerationResponse."""
    response = chat(fresh.url, model="openai/gpt-4o", stream=stream)
    generation_id = response.headers["x-generation-id"]
    body = get(fresh, f"/api/v1/generation?id={generation_id}").json()
    conforms("getGeneration", body)
    assert body["data"]["total_cost"] > 0


def test_generation_lag_in_polls(fresh: EmulatorServer) -> None:
    """With generation_lag_polls=2 the first two polls are 404, the third has the stats."""
    fresh.configure(generation_lag_polls=2)
    generation_id = chat(fresh.url).json()["id"]
    statuses = [get(fresh, f"/api/v1/generation?id={generation_id}").status for _ in range(3)]
    assert statuses == [404, 404, 200]


def test_generation_lag_in_time(make_server: Callable[..., EmulatorServer]) -> None:
    """With a lag in ms the stats stay 404 until that long (times the time scale) has passed."""
    server = make_server(generation_lag_ms=60_000)
    generation_id = chat(server.url).json()["id"]
    assert get(server, f"/api/v1/generation?id={generation_id}").status == 404
    server.configure(time_scale=0)  # the lag is scaled like every wait: 0 ends it at once
    assert get(server, f"/api/v1/generation?id={generation_id}").status == 200


def test_admin_catalog_route_extends_until_reset(fresh: EmulatorServer) -> None:
    """POST /_emulator/catalog applies a catalog file; reset restores the configured catalog."""
    posted = request(
        fresh.url,
        path="/_emulator/catalog",
        raw=EXTRA_CATALOG.encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert posted.status == 201
    assert posted.json()["applied"] == ["acme/rocket-1"]
    assert get(fresh, "/api/v1/models/acme/rocket-1/endpoints").status == 200
    fresh.reset()
    assert get(fresh, "/api/v1/models/acme/rocket-1/endpoints").status == 404


def test_admin_catalog_route_names_file_and_line(fresh: EmulatorServer) -> None:
    """A broken catalog body is a 400 naming source:line."""
    response = request(
        fresh.url,
        path="/_emulator/catalog?source=mine.yaml",
        raw=b"models:\n  - id: nope\n",
        headers={"Content-Type": "application/yaml"},
    )
    assert response.status == 400
    error = response.json()["error"]
    assert error["message"].startswith("mine.yaml:2: models[0].id: 'nope' does not match")
    assert (error["metadata"]["source"], error["metadata"]["line"]) == ("mine.yaml", 2)


def test_cli_refuses_a_broken_catalog_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """serve --catalog with a broken file exits 2 with file:line before listening."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("models:\n  - id: acme/a\n    pricing: {prompt: free}\n")
    assert cli_main(["serve", "--port", "0", "--catalog", str(broken)]) == 2
    assert f"{broken}:3: models[0].pricing" in capsys.readouterr().err


def test_config_catalog_file_is_served(
    tmp_path: Path, make_server: Callable[..., EmulatorServer]
) -> None:
    """Config.catalog_paths (the --catalog option) adds the file's models."""
    path = tmp_path / "extra.yaml"
    path.write_text(EXTRA_CATALOG)
    server = make_server(catalog_paths=(str(path),))
    ids = [m["id"] for m in get(server, "/api/v1/models").json()["data"]]
    assert "acme/rocket-1" in ids and "openai/gpt-4o" in ids


@pytest.mark.chat_emulator(
    catalog={"models": [{"id": "acme/rocket-1", "pricing": {"prompt": "0.5", "completion": "0"}}]}
)
def test_fixture_catalog_option_prices_the_cost(chat_emulator: EmulatorServer) -> None:
    """The marker's catalog option applies a catalog, and cost follows its prices."""
    completion = chat(chat_emulator.url, model="acme/rocket-1").json()
    stats = get(chat_emulator, f"/api/v1/generation?id={completion['id']}").json()["data"]
    assert stats["total_cost"] == pytest.approx(0.5 * completion["usage"]["prompt_tokens"])
