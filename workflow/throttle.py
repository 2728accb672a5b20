"""Sign-in throttling by client address: wrong sign-ins from one address against one name, and
from one address against any names, each limited in a moving window (the ``limits`` library).

A throttled address waits; every other address, the rightful user's included, signs in as
before, so an outsider cannot keep anyone locked out. Nothing of it is in the database: the
counts live in the server's memory (``memory://``, one process) or in a storage every worker
shares (a ``limits`` storage URI such as ``redis://HOST``). The lead's unlock is an audited act
in the database; the throttle is told of it as a number, the name's *generation* (how many times
the lead has unlocked it), which starts the name's counts afresh everywhere.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

# five wrong sign-ins from one address against one name in fifteen minutes make that address
# wait for that name (the former lock's numbers, now per address)
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
# thirty from one address against any names (one trying many names) make it wait for all
ADDRESS_FAILURES = 30
_MINUTES = int(WINDOW.total_seconds() // 60)
PER_NAME = f"{MAX_FAILURES} per {_MINUTES} minutes"
PER_ADDRESS = f"{ADDRESS_FAILURES} per {_MINUTES} minutes"
LOCAL = "local"  # the address of a sign-in that comes from no network (the command line, a test)


class SignInThrottle:
    """Counts wrong sign-ins per (address, name) and per address, and says when an address must
    wait. Thread-safe as its storage is (the in-memory one is)."""

    def __init__(self, storage: str = "memory://", per_name: str = PER_NAME, per_address: str = PER_ADDRESS) -> None:
        from limits import parse
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self.storage_uri = storage
        self._storage: Any = storage_from_string(storage)
        self._limiter: Any = MovingWindowRateLimiter(self._storage)
        self.per_name = parse(per_name)
        self.per_address = parse(per_address)

    @staticmethod
    def _pair(address: str, name: str, generation: int) -> tuple[str, str, str]:
        # (the generation before the name: the key stays unambiguous whatever the name holds)
        return address, str(generation), name

    def _refused_mark(self, address: str, name: str, generation: int) -> str:
        return "evalflow-sign-in-refused/" + "/".join(self._pair(address, name, generation))

    def waits(self, address: str, name: str, generation: int) -> bool:
        """Whether a sign-in from ``address`` as ``name`` must wait: too many wrong ones lately
        from that address against that name, or against any names. An unlock of ``name`` by the
        lead (a new ``generation``) starts the name's count afresh; and if the name was refused
        at that address for the address's count shortly before the unlock, that count too."""
        if not self._limiter.test(self.per_name, *self._pair(address, name, generation)):
            return True
        if self._limiter.test(self.per_address, address):
            return False
        # refused for the address's count over all names: a user behind the same address as
        # someone trying many names (one office's shared address). Once the lead has unlocked the
        # name, that user is let in; an older unlock forgives nothing (it left no mark since)
        earlier = self._refused_mark(address, name, generation - 1)
        if generation and self._storage.get(earlier):
            self._storage.clear(earlier)
            self._limiter.clear(self.per_address, address)
            return False
        self._storage.incr(self._refused_mark(address, name, generation), self.per_address.get_expiry())
        return True

    def failed(self, address: str, name: str, generation: int) -> None:
        """Count a wrong sign-in (an unknown name counts as a wrong password does)."""
        self._limiter.hit(self.per_name, *self._pair(address, name, generation))
        self._limiter.hit(self.per_address, address)

    def succeeded(self, address: str, name: str, generation: int) -> None:
        """The right password from ``address``: its earlier mistakes for ``name`` are forgotten
        (the address's count over all names stays)."""
        self._limiter.clear(self.per_name, *self._pair(address, name, generation))
