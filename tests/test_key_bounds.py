"""Per-key state is bounded: any non-empty API key is accepted, so a client sending a new key on
every request must not grow the rate-limit counters or the spend records without end. Past
MAX_KEYS the oldest key's are dropped; the account's usage keeps every key's spend."""

from __future__ import annotations

from emulator import accounts, quota
from emulator.accounts import Accounts
from emulator.quota import Limits, Quotas


def test_rate_limit_counters_keep_at_most_max_keys() -> None:
    """One more key than MAX_KEYS drops the oldest key's counters, and counting goes on."""
    quotas = Quotas(Limits(rpm=1))
    for i in range(quota.MAX_KEYS + 1):
        assert quotas.check(f"sk-{i}", False, 0.0) is None
    assert len(quotas.keys) == quota.MAX_KEYS
    assert "sk-0" not in quotas.keys
    refusal = quotas.check(f"sk-{quota.MAX_KEYS}", False, 1.0)
    assert refusal is not None and refusal.limit == 1


def test_spend_records_keep_at_most_max_keys_and_the_account_usage() -> None:
    """Charges on MAX_KEYS + 1 keys keep MAX_KEYS keys' records; /credits' usage counts all."""
    book = Accounts()
    for i in range(accounts.MAX_KEYS + 1):
        book.charge(f"sk-{i}", 0.5, 0.0)
    assert len(book.keys) == accounts.MAX_KEYS
    assert "sk-0" not in book.keys
    assert book.credits_data()["total_usage"] == 0.5 * (accounts.MAX_KEYS + 1)
    book.clear()
    assert book.credits_data()["total_usage"] == 0
