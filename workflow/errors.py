"""Every error a user can cause: one base class, one subclass per case, message built here.

The CLI maps each class to its own exit code (see ``exit_code``) and prints one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from i18n import Joined, Msg, rendered
from policies.base import Rejection


def os_reason(exc: OSError) -> Msg | str:
    """Why the system refused a file, in the reader's language: the common causes are messages
    of the catalog whose English is the system's own words (scripts read them as before); any
    other cause is the system's text as it is."""
    import errno

    known = {
        errno.ENOENT: Msg("No such file or directory"),
        errno.EACCES: Msg("Permission denied"),
        errno.EPERM: Msg("Operation not permitted"),
        errno.EISDIR: Msg("Is a directory"),
        errno.ENOTDIR: Msg("Not a directory"),
        errno.EEXIST: Msg("File exists"),
        errno.ENOSPC: Msg("No space left on device"),
        errno.EROFS: Msg("Read-only file system"),
        errno.ENAMETOOLONG: Msg("File name too long"),
        errno.EADDRINUSE: Msg("Address already in use"),
        errno.EADDRNOTAVAIL: Msg("Cannot assign requested address"),
    }
    found = known.get(exc.errno) if exc.errno is not None else None
    return found if found is not None else (exc.strerror or str(exc))


class EvalflowError(Exception):
    """Base class of every error evalflow reports to a user. Its text is a message of the
    catalog (:attr:`message`), rendered in the reader's language when it is read."""

    exit_code = 1
    kind = "error"
    message: Msg

    def _say(self, message: Msg) -> None:
        self.message = message
        super().__init__(message.id)

    def __str__(self) -> str:
        return self.message.render() if hasattr(self, "message") else super().__str__()

    def render(self, lang: str | None = None) -> str:
        """The error as a reader of ``lang`` reads it."""
        return self.message.render(lang) if hasattr(self, "message") else super().__str__()


# what a message names by a word of its own ("No project 214."): each a term of the catalog
TERMS = {
    m.id: m
    for m in (
        Msg("project"),
        Msg("projects"),
        Msg("user"),
        Msg("cycle"),
        Msg("city"),
        Msg("stage"),
        Msg("program"),
        Msg("appeal"),
        Msg("override"),
        Msg("token"),
        Msg("unit"),
        Msg("demo"),
        Msg("page"),
        Msg("list"),
        Msg("reminder"),
        Msg("action"),
        Msg("request"),
        Msg("file"),
        Msg("score sheet"),
    )
}


def term(word: Any) -> Any:
    """``word`` as a term of the catalog when it is one (else as given: a message, words)."""
    return TERMS.get(word, word) if isinstance(word, str) else word


class RuleRefused(EvalflowError):
    """An action was refused by one or more rules; nothing was changed."""

    exit_code = 3
    kind = "refused"

    def __init__(self, verb: Any, subject: Any, rejections: Sequence[Rejection], state: Any = None):
        self.verb = verb
        self.subject = subject
        self.state = state
        self.rejections = tuple(rejections)
        reasons = Joined(self.rejections)
        if state:
            self._say(
                Msg(
                    "Cannot {verb} {subject} (in state '{state}'): {reasons}.",
                    verb=verb,
                    subject=subject,
                    state=state,
                    reasons=reasons,
                )
            )
        else:
            self._say(Msg("Cannot {verb} {subject}: {reasons}.", verb=verb, subject=subject, reasons=reasons))

    @property
    def rules(self) -> list[str]:
        return [r.rule for r in self.rejections]


class NotPermitted(EvalflowError):
    """The acting user may not do this."""

    exit_code = 4
    kind = "not_permitted"

    def __init__(self, verb: Any, subject: Any, why: Any):
        self._say(Msg("Not permitted to {verb} {subject}: {why}.", verb=verb, subject=subject, why=why))


class NotSignedIn(EvalflowError):
    """No valid session or token, or a failed sign-in (the web console and the API only)."""

    exit_code = 4
    kind = "not_signed_in"

    def __init__(self, why: Any):
        self._say(Msg("Not signed in: {why}.", why=why))


class NotFound(EvalflowError):
    """A named thing does not exist (or is not visible to the acting user)."""

    exit_code = 5
    kind = "not_found"

    def __init__(self, what: Any, ident: object, hint: Any = ""):
        shown = repr(ident) if isinstance(ident, str) else ident
        if hint:
            self._say(Msg("No {what} {ident}; {hint}.", what=term(what), ident=shown, hint=hint))
        else:
            self._say(Msg("No {what} {ident}.", what=term(what), ident=shown))


class ConcurrentChange(EvalflowError):
    """Someone else changed the record between reading and writing it."""

    exit_code = 6
    kind = "conflict"

    def __init__(self, subject: Any, expected: int, found: int | None):
        if found is not None:
            self._say(
                Msg(
                    "{subject} was changed by someone else: you acted on version {expected}, it is now at version"
                    " {found}; reload and try again",
                    subject=subject,
                    expected=expected,
                    found=found,
                )
            )
        else:
            self._say(
                Msg(
                    "{subject} was changed by someone else: you acted on version {expected}, it no longer exists;"
                    " reload and try again",
                    subject=subject,
                    expected=expected,
                )
            )


class InvalidInput(EvalflowError):
    """A file or value given by the user is malformed; every problem is listed."""

    exit_code = 7
    kind = "invalid_input"

    def __init__(self, what: Any, problems: Sequence[Any]):
        self.what = what
        items = tuple(problems)
        self.problems = items
        self._say(Msg("Invalid {what}: {problems}.", what=term(what), problems=Joined(items)))


class ProgramInvalid(InvalidInput):
    """A program file failed validation; every problem is listed at once. Its problems are
    messages of the catalog (:attr:`messages`); :attr:`problems` gives them as read now."""

    exit_code = 8
    kind = "program_invalid"

    @property
    def problems(self) -> tuple[str, ...]:
        """Each problem in the reader's language (a program file's problems are matched as text)."""
        return tuple(str(rendered(p)) for p in self.messages)

    @problems.setter
    def problems(self, value: Sequence[Any]) -> None:
        self.messages: tuple[Any, ...] = tuple(value)


class StoreUnavailable(EvalflowError):
    """The database is missing, not initialised, or cannot be reached."""

    exit_code = 9
    kind = "store"

    def __init__(self, message: Any):
        self._say(message if isinstance(message, Msg) else Msg("{text}", text=message))


class AddressUnavailable(EvalflowError):
    """The console cannot listen where it was told: the port is taken (another server, an earlier
    console still running), or the address is not this machine's."""

    exit_code = 12
    kind = "address"

    def __init__(self, address: str, why: Any):
        self._say(Msg("Cannot listen on {address}: {why}", address=address, why=why))


class RendererMissing(EvalflowError):
    """A document cannot be made on this machine: what PDF documents are drawn with (WeasyPrint's
    system libraries, a Chinese font) is not installed. DOCX documents need none of it."""

    exit_code = 13
    kind = "renderer"

    def __init__(self, why: Any):
        self._say(Msg("Cannot make PDF documents on this machine: {why}", why=why))


class TrailBroken(EvalflowError):
    """The audit trail does not hold: a chain is broken or cut off, or the trail does not give
    the stored states."""

    exit_code = 11
    kind = "audit"

    def __init__(self, message: Any):
        self._say(message if isinstance(message, Msg) else Msg("{text}", text=message))


def at_most(problems: Sequence[Any], shown: int = 40) -> list[Any]:
    """The first ``shown`` problems and how many more (a file with thousands of bad rows still
    gives a message a person can read; fixing these and running again shows the rest)."""
    if len(problems) <= shown:
        return list(problems)
    more = Msg("… and {more} more problems ({count} in all)", more=len(problems) - shown, count=len(problems))
    return [*problems[:shown], more]
