"""The admin API under /_emulator/: journal, scenarios, reset, health, and the admin token."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from wire import RawResponse, chat, request

from emulator.errors import error_type_for
from emulator.testing import EmulatorServer

GREETING = "name: greeting\nmatch:\n  last_user_message: Hi\nreply:\n  content: Hello!\n"
FAREWELL = {
    "name": "farewell",
    "priority": 5,
    "match": {"last_user_message": "Bye"},
    "reply": {"content": "Goodbye"},
}


def admin(server: EmulatorServer, method: str, path: str, **kwargs: Any) -> RawResponse:
    return request(server.url, method=method, path="/_emulator/" + path, **kwargs)


def post_yaml(server: EmulatorServer, text: str, query: str = "") -> RawResponse:
    headers = {"Content-Type": "application/yaml"}
    return admin(server, "POST", "scenarios" + query, raw=text.encode(), headers=headers)


def say(server: EmulatorServer, text: str) -> RawResponse:
    return chat(server.url, messages=[{"role": "user", "content": text}])


def test_post_scenarios_yaml_then_list_with_call_counts(server: EmulatorServer) -> None:
    """A YAML body loads; GET scenarios lists name, description, priority, source and calls."""
    assert post_yaml(server, GREETING).status == 201
    say(server, "Hi")
    say(server, "Hi")
    listed = admin(server, "GET", "scenarios").json()["scenarios"]
    assert listed == [
        {
            "name": "greeting",
            "description": "",
            "priority": 0,
            "source": "<request body>:1",
            "steps": 1,
            "calls": 2,
        },
    ]


def test_post_scenarios_json_body(server: EmulatorServer) -> None:
    """A JSON body loads too, and the answer names what was loaded and what is loaded now."""
    post_yaml(server, GREETING)
    response = admin(server, "POST", "scenarios", body=FAREWELL)
    assert (response.status, response.json()) == (
        201,
        {"loaded": ["farewell"], "scenarios": ["greeting", "farewell"]},
    )
    assert say(server, "Bye").json()["choices"][0]["message"]["content"] == "Goodbye"


def test_post_scenarios_replace(server: EmulatorServer) -> None:
    """?replace=true swaps out every loaded scenario."""
    post_yaml(server, GREETING)
    response = admin(server, "POST", "scenarios?replace=true", body=FAREWELL)
    assert response.json()["scenarios"] == ["farewell"]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            "name: a\nreply:\n  contnt: x\n",
            "application/yaml",
            "<request body>:3: unknown key 'contnt' in reply; valid keys: ",
        ),
        (
            "scenarios:\n  - {name: new, reply: {content: x}}\n  - {name: greeting, reply: {}}\n",
            "application/yaml",
            "<request body>:3: duplicate scenario name 'greeting': a scenario of that name is "
            "already loaded (from <request body>:1, earlier)",
        ),
        ('{"name": "a",', "application/json", "the body is not valid JSON: "),
        ("  \n", "application/yaml", "empty body: send scenarios as YAML or JSON"),
    ],
    ids=["unknown-key", "duplicate-name", "broken-json", "empty"],
)
def test_broken_scenarios_body_is_a_400_and_loads_nothing(
    server: EmulatorServer, body: str, content_type: str, message: str
) -> None:
    """A body with any problem is a 400 naming it (file:line), and nothing is half-loaded."""
    post_yaml(server, GREETING)
    response = admin(
        server, "POST", "scenarios", raw=body.encode(), headers={"Content-Type": content_type}
    )
    assert response.status == 400
    assert message in response.json()["error"]["message"]
    assert response.json()["error"]["code"] == 400
    assert [s["name"] for s in admin(server, "GET", "scenarios").json()["scenarios"]] == [
        "greeting"
    ]


def test_error_metadata_names_source_and_line(server: EmulatorServer) -> None:
    """The 400 for a broken scenario carries source and line as metadata; ?source= names it."""
    response = post_yaml(server, "name: a\nreply:\n  contnt: x\n", "?source=mine.yaml")
    error = response.json()["error"]
    assert error["message"].startswith("mine.yaml:3: ")
    assert error["metadata"] == {"error_type": "invalid_request", "source": "mine.yaml", "line": 3}


def test_get_requests_is_the_journal_filtered_by_scenario(server: EmulatorServer) -> None:
    """GET requests answers the journal as JSON, oldest first; ?scenario= keeps one scenario's."""
    post_yaml(server, GREETING)
    say(server, "Hi")
    say(server, "Something else")
    everything = admin(server, "GET", "requests").json()["requests"]
    assert [(e["seq"], e["scenario"], e["status"]) for e in everything] == [
        (1, "greeting", 200),
        (2, None, 200),
    ]
    assert everything[0]["headers"]["authorization"] == "Bearer <redacted>"
    assert everything[0]["body"]["messages"] == [{"role": "user", "content": "Hi"}]
    filtered = admin(server, "GET", "requests?scenario=greeting").json()["requests"]
    assert [e["seq"] for e in filtered] == [1]


def test_entries_serialise_what_was_played(server: EmulatorServer) -> None:
    """A journal entry in JSON has its played events, outcome, duration and completion summary."""
    say(server, "Hi")
    entry = admin(server, "GET", "requests").json()["requests"][0]
    assert [e["kind"] for e in entry["events"]] == ["head", "body", "close"]
    assert entry["outcome"] == "completed" and entry["duration_ms"] >= 0
    assert entry["completion"]["finish_reasons"] == ["stop"]
    assert json.loads(entry["events"][1]["data"])["id"] == entry["generation_id"]


def test_delete_requests_empties_the_journal_only(server: EmulatorServer) -> None:
    """DELETE requests empties the journal; scenarios and their counters stay."""
    post_yaml(server, GREETING)
    say(server, "Hi")
    assert admin(server, "DELETE", "requests").json() == {"deleted": 1}
    assert admin(server, "GET", "requests").json() == {
        "requests": [],
        "dropped": 0,
        "dropped_rejected": 0,
    }
    assert admin(server, "GET", "scenarios").json()["scenarios"][0]["calls"] == 1


@pytest.mark.parametrize(
    ("query", "scenarios_left"), [("", []), ("?keep_scenarios=true", ["greeting"])]
)
def test_reset(server: EmulatorServer, query: str, scenarios_left: list[str]) -> None:
    """POST reset empties the journal and counters, and the scenarios unless asked to keep them."""
    post_yaml(server, GREETING)
    say(server, "Hi")
    assert admin(server, "POST", "reset" + query).json() == {
        "reset": True,
        "scenarios": scenarios_left,
    }
    assert server.requests == []
    assert server.scenario_calls() == dict.fromkeys(scenarios_left, 0)


def test_health(server: EmulatorServer) -> None:
    """GET health answers ok with the version and a few counts."""
    say(server, "Hi")
    assert admin(server, "GET", "health").json() == {
        "status": "ok",
        "version": "0.1.0",
        "scenarios": 0,
        "requests": 1,
        "dropped": 0,
        "open_streams": 0,
        "worker": {"index": 0, "of": 1, "pid": os.getpid()},
    }


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        (
            "GET",
            "requests?scenaro=x",
            "unknown query parameter(s) 'scenaro' for GET /_emulator/requests; valid: scenario, "
            "session",
        ),
        (
            "POST",
            "reset?keep_scenarios=maybe",
            "query parameter 'keep_scenarios' is 'maybe'; valid: true, 1, yes, false, 0, no",
        ),
        ("GET", "nothing-here", "no route for GET /_emulator/nothing-here"),
    ],
    ids=["unknown-parameter", "bad-flag", "unknown-route"],
)
def test_rejected_admin_requests_name_the_problem(
    server: EmulatorServer, method: str, path: str, message: str
) -> None:
    """Every rejected admin request is a 4xx in the router's envelope saying what is wrong."""
    response = admin(server, method, path)
    assert 400 <= response.status < 500
    assert response.json() == {
        "error": {
            "code": response.status,
            "message": message,
            "metadata": {"error_type": error_type_for(response.status)},
        }
    }


@pytest.mark.parametrize(
    ("authorization", "status", "message"),
    [
        (None, 401, "the admin API requires 'Authorization: Bearer <admin token>'"),
        ("Bearer wrong", 401, "wrong admin token"),
        ("Bearer s3cret", 200, None),
    ],
    ids=["missing", "wrong", "right"],
)
def test_admin_token(
    make_server: Callable[..., EmulatorServer],
    authorization: str | None,
    status: int,
    message: str | None,
) -> None:
    """With an admin token configured, every admin route requires it as a bearer token."""
    server = make_server(admin_token="s3cret")
    response = admin(server, "GET", "health", headers={"Authorization": authorization})
    assert response.status == status
    if message is not None:
        assert response.json() == {
            "error": {"code": 401, "message": message, "metadata": {"error_type": "authentication"}}
        }


def test_admin_token_does_not_guard_the_router_api(
    make_server: Callable[..., EmulatorServer],
) -> None:
    """The admin token is separate: chat completions take any API key as before."""
    server = make_server(admin_token="s3cret")
    assert say(server, "Hi").status == 200
