"""The sign-in throttle by itself: per address and name, per address, a new generation (the
lead's unlock) starting a name afresh, and an old unlock forgiving nothing."""

from __future__ import annotations

from workflow.throttle import SignInThrottle

A, B = "203.0.113.9", "198.51.100.7"


def test_five_wrong_ones_make_that_address_wait_for_that_name_only() -> None:
    t = SignInThrottle()
    for _ in range(5):
        assert not t.waits(A, "lead", 0)
        t.failed(A, "lead", 0)
    assert t.waits(A, "lead", 0)
    assert not t.waits(B, "lead", 0)  # another address
    assert not t.waits(A, "hefei-admin", 0)  # another name
    assert not t.waits(A, "lead", 1)  # the name unlocked since


def test_the_right_password_forgets_the_address_s_mistakes_for_the_name() -> None:
    t = SignInThrottle()
    for _ in range(4):
        t.failed(A, "lead", 0)
    t.succeeded(A, "lead", 0)
    for _ in range(4):
        t.failed(A, "lead", 0)
    assert not t.waits(A, "lead", 0)


def test_an_address_trying_many_names_waits_for_all_and_only_a_fresh_unlock_lets_one_in() -> None:
    t = SignInThrottle(per_address="3 per 15 minutes")
    for name in ("zhang", "wang", "li"):
        t.failed(A, name, 0)
    assert t.waits(A, "lead", 4)  # refused at generation 4 (the lead's name has been unlocked 4 times before)
    assert t.waits(A, "hefei-admin", 7)  # an unlock long ago forgives nothing
    assert t.waits(A, "hefei-admin", 7)
    assert not t.waits(B, "lead", 4)
    assert not t.waits(A, "lead", 5)  # unlocked after it was refused: let in, the address's count cleared
    assert not t.waits(A, "hefei-admin", 7)
