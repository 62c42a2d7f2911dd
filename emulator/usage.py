"""The `usage` object as the router reports it (spec schema ChatUsage; usage-accounting docs).

    {"prompt_tokens", "completion_tokens", "total_tokens", "cost", "is_byok",
     "prompt_tokens_details": {"cached_tokens"}, "cost_details": {...},
     "completion_tokens_details": {"reasoning_tokens"}}

Counts are exact o200k tokens of what was sent; `reasoning_tokens` are a part of
`completion_tokens` (reasoning is billed as output). `cost` (USD) and `cost_details` come from the
serving model's catalog prices (`pricing.compute_cost`); the emulator never serves BYOK, so
`is_byok` is false. A scenario's `usage` mapping overrides any key (nested details merge), and
the cost is computed from the final counts unless the scenario gives `cost` itself.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.pricing import DEFAULT_PRICING, Cost, TokenUsage, compute_cost

DETAIL_GROUPS = ("prompt_tokens_details", "completion_tokens_details")


def build_usage(
    prompt_tokens: int,
    completion_tokens: int,
    reasoning_tokens: int = 0,
    *,
    pricing: Mapping[str, Any] | None = None,
    finish_reason: str | None = "stop",
    given: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The usage object of a generation (see the module docstring). Token counts in tokens,
    `cost` in USD; `finish_reason` (the first choice's) decides zero-completion insurance."""
    extra = dict(given or {})
    prompt = _int(extra.pop("prompt_tokens", prompt_tokens))
    completion = _int(extra.pop("completion_tokens", completion_tokens))
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": extra.pop("total_tokens", prompt + completion),
    }
    details = {
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
    }
    for group in DETAIL_GROUPS:
        scripted = extra.pop(group, None)
        if isinstance(scripted, Mapping):
            details[group] = {**details[group], **scripted}
        elif group in (given or {}):
            details[group] = scripted
    counts = TokenUsage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        reasoning_tokens=_detail(details["completion_tokens_details"], "reasoning_tokens"),
        cached_tokens=_detail(details["prompt_tokens_details"], "cached_tokens"),
        cache_write_tokens=_detail(details["prompt_tokens_details"], "cache_write_tokens"),
    )
    cost = compute_cost(pricing or DEFAULT_PRICING, counts, finish_reason)
    if "cost" in extra:
        cost = _scaled(cost, extra["cost"])
    usage["cost"] = extra.pop("cost", cost.cost)
    usage["is_byok"] = extra.pop("is_byok", False)
    usage["prompt_tokens_details"] = details["prompt_tokens_details"]
    usage["cost_details"] = extra.pop("cost_details", cost.details())
    usage["completion_tokens_details"] = details["completion_tokens_details"]
    usage.update(extra)
    return usage


def _scaled(computed: Cost, scripted: Any) -> Cost:
    """A scripted cost split between prompt and completion as the computed cost is (all of it
    to the completion when the computed cost is 0), so `cost_details` adds up to `cost`."""
    if not isinstance(scripted, (int, float)) or isinstance(scripted, bool):
        return computed
    if computed.cost > 0:
        prompt = scripted * computed.prompt / computed.cost
        return Cost(scripted, prompt, scripted - prompt)
    return Cost(scripted, 0.0, scripted)


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _detail(group: Any, key: str) -> int:
    value = group.get(key) if isinstance(group, Mapping) else None
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
