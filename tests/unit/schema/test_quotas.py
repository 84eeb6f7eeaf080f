"""What a caller may spend (schema/quotas.py): per request, per minute, per registration window."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from domain.errors import RateLimited
from schema.quotas import QuotaExceeded, Quotas, caller_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def quotas(clock: Clock, **limits: int) -> Quotas:
    settings = {"max_cost": 1000, "budget": 300, "registrations": 2} | limits
    return Quotas(**settings, clock=clock)  # type: ignore[arg-type]


def test_an_operation_above_the_maximum_cost_is_refused_with_its_cost(clock: Clock) -> None:
    with pytest.raises(GraphQLError) as refused:
        quotas(clock).admit("member:a", "10.0.0.1", 1001)
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "cost": 1001, "maxCost": 1000}


def test_each_charge_shows_what_is_left_and_when_it_resets(clock: Clock) -> None:
    limits = quotas(clock)
    first = limits.admit("member:a", "10.0.0.1", 100)
    clock.now += 10
    second = limits.admit("member:a", "10.0.0.1", 50)
    assert (first.requested, first.remaining) == (100, 200)
    assert (second.requested, second.remaining) == (50, 150)
    assert second.reset_at == first.reset_at == 1_000_060.0
    assert second.as_extension() == {
        "requested": 50, "maxCost": 1000, "limit": 300, "remaining": 150,
        "resetAt": "1970-01-12T13:47:40Z",
    }


def test_an_operation_the_rest_of_the_budget_cannot_pay_is_rate_limited(clock: Clock) -> None:
    limits = quotas(clock)
    limits.admit("member:a", "10.0.0.1", 250)
    clock.now += 15
    with pytest.raises(QuotaExceeded) as refused:
        limits.admit("member:a", "10.0.0.1", 51)
    assert refused.value.retry_after == 45
    assert (refused.value.charge.requested, refused.value.charge.remaining) == (51, 50)
    assert limits.admit("member:a", "10.0.0.1", 50).remaining == 0  # refusals cost nothing


def test_the_budget_resets_a_minute_after_the_window_opened(clock: Clock) -> None:
    limits = quotas(clock)
    limits.admit("member:a", "10.0.0.1", 300)
    clock.now += 60
    assert limits.admit("member:a", "10.0.0.1", 300).remaining == 0


def test_callers_have_budgets_of_their_own(clock: Clock) -> None:
    limits = quotas(clock)
    limits.admit(caller_key("a", "10.0.0.1"), "10.0.0.1", 300)
    assert limits.admit(caller_key(None, "10.0.0.1"), "10.0.0.1", 300).remaining == 0
    assert limits.admit(caller_key("b", "10.0.0.1"), "10.0.0.1", 300).remaining == 0


def test_registrations_are_counted_per_address_within_their_window(clock: Clock) -> None:
    limits = quotas(clock)
    limits.admit("client:10.0.0.1", "10.0.0.1", 1, registrations=1)
    limits.admit("client:10.0.0.1", "10.0.0.1", 1, registrations=1)
    clock.now += 100
    with pytest.raises(RateLimited) as refused:
        limits.admit("client:10.0.0.1", "10.0.0.1", 1, registrations=1)
    assert refused.value.retry_after == 500
    limits.admit("client:10.0.0.2", "10.0.0.2", 1, registrations=2)
    clock.now += 500
    limits.admit("client:10.0.0.1", "10.0.0.1", 1, registrations=1)


def test_one_operation_registering_several_members_counts_each(clock: Clock) -> None:
    with pytest.raises(RateLimited):
        quotas(clock).admit("client:10.0.0.1", "10.0.0.1", 1, registrations=3)


def test_a_refund_gives_a_charge_back(clock: Clock) -> None:
    limits = quotas(clock)
    limits.admit("member:a", "10.0.0.1", 200)
    limits.refund("member:a", 200)
    assert limits.admit("member:a", "10.0.0.1", 300).remaining == 0


def test_a_limit_of_zero_is_no_limit(clock: Clock) -> None:
    limits = quotas(clock, max_cost=0, budget=0, registrations=0)
    charge = limits.admit("member:a", "10.0.0.1", 10**9, registrations=100)
    assert charge.as_extension() == {"requested": 10**9, "maxCost": 0}


def test_closed_windows_are_forgotten(clock: Clock) -> None:
    limits = quotas(clock)
    for n in range(100):
        limits.admit(f"client:{n}", str(n), 1)
    clock.now += 61
    limits.admit("member:a", "10.0.0.1", 1)
    assert limits.budgets.keys() == {"member:a"}
