"""Every error a user can cause: one base class, one subclass per case, message built here.

The CLI maps each class to its own exit code (see ``exit_code``) and prints one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from policies.base import Rejection


class EvalflowError(Exception):
    """Base class of every error evalflow reports to a user."""

    exit_code = 1
    kind = "error"


class RuleRefused(EvalflowError):
    """An action was refused by one or more rules; nothing was changed."""

    exit_code = 3
    kind = "refused"

    def __init__(self, verb: str, subject: str, rejections: Sequence[Rejection], state: str | None = None):
        self.verb = verb
        self.subject = subject
        self.state = state
        self.rejections = tuple(rejections)
        where = f" (in state '{state}')" if state else ""
        reasons = "; ".join(str(r) for r in self.rejections)
        super().__init__(f"Cannot {verb} {subject}{where}: {reasons}.")

    @property
    def rules(self) -> list[str]:
        return [r.rule for r in self.rejections]


class NotPermitted(EvalflowError):
    """The acting user may not do this."""

    exit_code = 4
    kind = "not_permitted"

    def __init__(self, verb: str, subject: str, why: str):
        super().__init__(f"Not permitted to {verb} {subject}: {why}.")


class NotSignedIn(EvalflowError):
    """No valid session or token, or a failed sign-in (the web console and the API only)."""

    exit_code = 4
    kind = "not_signed_in"

    def __init__(self, why: str):
        super().__init__(f"Not signed in: {why}.")


class NotFound(EvalflowError):
    """A named thing does not exist (or is not visible to the acting user)."""

    exit_code = 5
    kind = "not_found"

    def __init__(self, what: str, ident: object, hint: str = ""):
        extra = f"; {hint}" if hint else ""
        super().__init__(f"No {what} {ident!r}{extra}.")


class ConcurrentChange(EvalflowError):
    """Someone else changed the record between reading and writing it."""

    exit_code = 6
    kind = "conflict"

    def __init__(self, subject: str, expected: int, found: int | None):
        now = f"it is now at version {found}" if found is not None else "it no longer exists"
        super().__init__(
            f"{subject} was changed by someone else: you acted on version {expected}, {now}; reload and try again"
        )


class InvalidInput(EvalflowError):
    """A file or value given by the user is malformed; every problem is listed."""

    exit_code = 7
    kind = "invalid_input"

    def __init__(self, what: str, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__(f"Invalid {what}: " + "; ".join(self.problems) + ".")


class ProgramInvalid(InvalidInput):
    """A program file failed validation; every problem is listed at once."""

    exit_code = 8
    kind = "program_invalid"


class StoreUnavailable(EvalflowError):
    """The database is missing, not initialised, or cannot be reached."""

    exit_code = 9
    kind = "store"

    def __init__(self, message: str):
        super().__init__(message)


class TrailBroken(EvalflowError):
    """The audit trail does not hold: a chain is broken or cut off, or the trail does not give
    the stored states."""

    exit_code = 11
    kind = "audit"

    def __init__(self, message: str):
        super().__init__(message)


def at_most(problems: Sequence[str], shown: int = 40) -> list[str]:
    """The first ``shown`` problems and how many more (a file with thousands of bad rows still
    gives a message a person can read; fixing these and running again shows the rest)."""
    if len(problems) <= shown:
        return list(problems)
    return [*problems[:shown], f"… and {len(problems) - shown} more problems ({len(problems)} in all)"]
