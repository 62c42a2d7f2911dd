"""What a generation costs: USD from a model's (or endpoint's) catalog prices and its usage.

The router publishes prices in `pricing` (spec schema PublicPricing) as decimal strings in USD
per token (per request for `request`). Its usage-accounting and prompt-caching docs describe how
a generation is charged, without a formula; the emulator computes:

    prompt part     = (prompt_tokens - cached_tokens - cache_write_tokens) * prompt
                      + cached_tokens * input_cache_read    (prompt price when not listed)
                      + cache_write_tokens * input_cache_write (prompt price when not listed)
                      + request
    completion part = completion_tokens * completion        (reasoning tokens are inside
                                                             completion_tokens, billed as output)
    cost            = prompt part + completion part

`pricing.overrides` entries with `min_prompt_tokens` replace prices for prompts longer than that
(models docs). Zero-completion insurance (zero-completion-insurance docs): a generation with no
completion tokens and no finish reason, or one that ended with finish reason `error`, costs 0.
`cost_details` (spec schema CostDetails) splits the cost into its prompt and completion parts;
`upstream_inference_cost` is null because the emulator never serves BYOK. Arithmetic is exact
(decimal) and the results are returned as floats.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# The price of a model the catalog lacks: free, so a mock never charges for what it cannot know.
DEFAULT_PRICING: Mapping[str, str] = {"prompt": "0", "completion": "0", "request": "0"}
ZERO = Decimal(0)


@dataclass(frozen=True)
class TokenUsage:
    """Token counts of one generation, as `usage` reports them (spec schema ChatUsage).

    `reasoning_tokens` are a part of `completion_tokens`; `cached_tokens` (read from the cache)
    and `cache_write_tokens` are parts of `prompt_tokens`."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class Cost:
    """A generation's charge in USD: `cost` = `prompt` + `completion`."""

    cost: float
    prompt: float
    completion: float

    def details(self) -> dict[str, Any]:
        """`usage.cost_details` (spec schema CostDetails): both required keys, no BYOK part."""
        return {
            "upstream_inference_cost": None,
            "upstream_inference_prompt_cost": self.prompt,
            "upstream_inference_completions_cost": self.completion,
        }


FREE = Cost(0.0, 0.0, 0.0)


def price(pricing: Mapping[str, Any], key: str, fallback: str | None = None) -> Decimal:
    """The price `key` (USD per token or unit) of a `pricing` object as a Decimal; `fallback`'s
    price when the key is absent; 0 when neither is there or the value is not a number."""
    value = pricing.get(key)
    if value is None and fallback is not None:
        value = pricing.get(fallback)
    try:
        found = Decimal(str(value)) if value is not None else ZERO
    except InvalidOperation:
        return ZERO
    return found if found.is_finite() and found > 0 else ZERO


def effective_pricing(pricing: Mapping[str, Any], prompt_tokens: int) -> Mapping[str, Any]:
    """`pricing` with the override for a prompt of `prompt_tokens` applied: the applicable
    `overrides` entry with the largest `min_prompt_tokens` below the prompt (strictly greater
    than, as the models docs say). Time-window overrides are not applied."""
    best: Mapping[str, Any] | None = None
    for override in pricing.get("overrides") or ():
        if not isinstance(override, Mapping) or "min_prompt_tokens" not in override:
            continue
        threshold = override["min_prompt_tokens"]
        applies = isinstance(threshold, int) and prompt_tokens > threshold
        if applies and (best is None or threshold > best["min_prompt_tokens"]):
            best = override
    if best is None:
        return pricing
    return {**pricing, **{k: v for k, v in best.items() if k != "min_prompt_tokens"}}


def compute_cost(
    pricing: Mapping[str, Any], usage: TokenUsage, finish_reason: str | None = "stop"
) -> Cost:
    """The `Cost` of `usage` at `pricing` (USD per token strings, spec schema PublicPricing),
    by the formula in this module's docstring. `finish_reason` is the generation's (first
    choice's) finish reason, for zero-completion insurance."""
    if finish_reason == "error" or (usage.completion_tokens <= 0 and not finish_reason):
        return FREE
    prices = effective_pricing(pricing, usage.prompt_tokens)
    cached = max(0, usage.cached_tokens)
    written = max(0, usage.cache_write_tokens)
    uncached = max(0, usage.prompt_tokens - cached - written)
    prompt = (
        uncached * price(prices, "prompt")
        + cached * price(prices, "input_cache_read", "prompt")
        + written * price(prices, "input_cache_write", "prompt")
        + price(prices, "request")
    )
    completion = max(0, usage.completion_tokens) * price(prices, "completion")
    return Cost(float(prompt + completion), float(prompt), float(completion))


def usage_cost_fields(pricing: Mapping[str, Any], usage: Mapping[str, Any]) -> dict[str, Any]:
    """`cost`, `cost_details` and `is_byok` for a `usage` object (spec schema ChatUsage) as
    the router adds them, from its token counts and details. A `usage` without counts costs 0."""
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    counts = TokenUsage(
        prompt_tokens=_int(usage.get("prompt_tokens")),
        completion_tokens=_int(usage.get("completion_tokens")),
        reasoning_tokens=_int(completion_details.get("reasoning_tokens")),
        cached_tokens=_int(prompt_details.get("cached_tokens")),
        cache_write_tokens=_int(prompt_details.get("cache_write_tokens")),
    )
    cost = compute_cost(pricing, counts)
    return {"cost": cost.cost, "is_byok": False, "cost_details": cost.details()}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
