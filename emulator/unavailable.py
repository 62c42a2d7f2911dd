"""The router's model-availability errors for routing (errors-and-debugging docs, "Model
availability errors"): `error.availability` with its `code`, `requested_models`,
`excluded_by` and the `constraint` that left nothing, and the messages naming it. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from emulator.catalog import Endpoint

AVAILABILITY_DOCS = "https://openrouter.ai/docs/errors#"


class RoutingError(Exception):
    """No model or endpoint can serve the request: the router's availability error."""

    def __init__(self, status: int, message: str, availability: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.availability = dict(availability)


def availability(code: str, requested: list[str], **extra: Any) -> dict[str, Any]:
    retryable = {"retryable": False}
    return {
        "code": code,
        **retryable,
        "requested_models": requested,
        **extra,
        "docs_url": AVAILABILITY_DOCS + code,
    }


def not_found(model_id: str, requested: list[str]) -> RoutingError:
    return RoutingError(
        400, f"{model_id} is not a valid model ID", availability("model_not_found", requested)
    )


def filtered(problems: list[tuple[str, list[str], str]], requested: list[str]) -> RoutingError:
    _, excluded, detail = problems[0]
    field_name = _FIELDS.get(excluded[0], "provider")
    found = availability(
        "constraint_filtered",
        requested,
        excluded_by=sorted(set(excluded)),
        constraint={"field": field_name, "detail": detail},
    )
    return RoutingError(404, detail, found)


_FIELDS = {
    "allowed_providers": "provider.only",
    "quantization": "provider.quantizations",
    "data_policy:training": "provider.data_collection",
    "data_policy:zdr": "provider.zdr",
    "max_price": "provider.max_price",
    "require_parameters": "provider.require_parameters",
}


def only_message(only: Sequence[str]) -> Callable[[str, list[Endpoint]], str]:
    return _serving_message(
        f"but your request's provider.only preference permits only: {', '.join(only)}."
    )


def ignore_message(ignore: Sequence[str]) -> Callable[[str, list[Endpoint]], str]:
    return _serving_message(
        f"and your request's provider.ignore preference excludes: {', '.join(ignore)}."
    )


def _serving_message(why: str) -> Callable[[str, list[Endpoint]], str]:
    """The router's message naming the providers that serve the model, then `why` none is left."""

    def message(model_id: str, pool: list[Endpoint]) -> str:
        serving = ", ".join(dict.fromkeys(e.slug for e in pool))
        return (
            "No allowed providers are available for the selected model. Providers serving "
            f"{model_id}: {serving}, {why}"
        )

    return message


def constraint_message(field_name: str, value: str) -> Callable[[str, list[Endpoint]], str]:
    def message(model_id: str, pool: list[Endpoint]) -> str:
        return (
            f"No endpoints found for {model_id} that satisfy your request's {field_name} "
            f"preference ({value})."
        )

    return message


def shown_prices(limits: Mapping[str, Decimal]) -> str:
    return ", ".join(f"{k} <= {v}" for k, v in limits.items())
