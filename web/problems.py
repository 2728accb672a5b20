"""The problems of a request the framework refused before any page or API call saw it (a page
number that is not a number, a body without a required field), as a reader reads them.

In English they keep the words the API has always given (``query.page: Input should be greater
than or equal to 1``: scripts match them); in Chinese each is a plain sentence that names the
field by its label (``页码不能小于 1``), not by its place in the request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import i18n
from i18n import Msg

# the fields of the pages' and the API's requests, by the name the request gives them
LABELS: dict[str, Msg] = {
    "page": Msg("page number"),
    "project_id": Msg("project number"),
    "project_ids": Msg("project numbers"),
    "appeal_id": Msg("appeal number"),
    "token_id": Msg("token number"),
    "cycle_id": Msg("cycle"),
    "cycle": Msg("cycle"),
    "program_id": Msg("program"),
    "city": Msg("city"),
    "state": Msg("state"),
    "status": Msg("status"),
    "category": Msg("category"),
    "action": Msg("action"),
    "trigger": Msg("action"),
    "decision": Msg("decision"),
    "format": Msg("file format"),
    "name": Msg("user name"),
    "password": Msg("password"),
    "csrf": Msg("security token"),
    "next": Msg("page to return to"),
    "expected_version": Msg("version"),
    "opinion": Msg("opinion"),
    "reason": Msg("reason"),
    "result": Msg("review result"),
    "method": Msg("review method"),
    "scores": Msg("scores"),
    "completion": Msg("completion note"),
    "params": Msg("parameters"),
    "tie_order": Msg("order of tied projects"),
    "reopen_to": Msg("stage to reopen"),
    "application": Msg("application"),
    "label": Msg("label"),
}

# the parts of a field's place that are not names of fields
_PLACES = frozenset({"body", "query", "path", "form", "header", "cookie"})


def label(loc: Sequence[Any]) -> Any:
    """The field at ``loc`` as a reader names it: its label, and the key inside it if any
    (``scores.value`` is 评分 value); a field of no known label by its own name."""
    names = [str(x) for x in loc if str(x) not in _PLACES]
    if not names:
        return Msg("the request")
    for i in range(len(names) - 1, -1, -1):
        found = LABELS.get(names[i])
        if found is not None:
            rest = ".".join(names[i + 1 :])
            return Msg("{field} {key}", field=found, key=rest) if rest else found
    return ".".join(names)


# each kind of pydantic error: its sentence, and the key of its context holding the limit (if any)
_SENTENCES: dict[str, tuple[Msg, str]] = {
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float"), (Msg("{field} must be a whole number"), "")),
    **dict.fromkeys(("float_parsing", "float_type", "decimal_parsing"), (Msg("{field} must be a number"), "")),
    **dict.fromkeys(("bool_parsing", "bool_type"), (Msg("{field} must be yes or no"), "")),
    "greater_than_equal": (Msg("{field} must not be less than {limit}"), "ge"),
    "greater_than": (Msg("{field} must be more than {limit}"), "gt"),
    "less_than_equal": (Msg("{field} must not be more than {limit}"), "le"),
    "less_than": (Msg("{field} must be less than {limit}"), "lt"),
    "missing": (Msg("{field} is required"), ""),
    "string_too_long": (Msg("{field} takes at most {limit} characters"), "max_length"),
    "string_too_short": (Msg("{field} needs at least {limit} characters"), "min_length"),
    "too_short": (Msg("{field} needs at least {limit} items"), "min_length"),
    "too_long": (Msg("{field} takes at most {limit} items"), "max_length"),
    "literal_error": (Msg("{field} must be one of {limit}"), "expected"),
    "enum": (Msg("{field} must be one of {limit}"), "expected"),
    "extra_forbidden": (Msg("{field} is not a field of this request"), ""),
}


def sentence(error: Mapping[str, Any]) -> Msg:
    """One validation error of pydantic as a plain sentence naming its field."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    field = label(error.get("loc", ()))
    if kind == "json_invalid":
        return Msg("the request's body is not valid JSON")
    if kind in _SENTENCES:
        said, limit = _SENTENCES[kind]
        return Msg(said.id, field=field, limit=ctx.get(limit, "")) if limit else Msg(said.id, field=field)
    return Msg("{field} is not valid ({detail})", field=field, detail=str(error.get("msg", "invalid")))


class RequestProblem:
    """A problem of a refused request: today's words in English, a plain sentence otherwise
    (rendered when read, like every message)."""

    __slots__ = ("english", "message")

    def __init__(self, error: Mapping[str, Any]):
        where = ".".join(str(x) for x in error.get("loc", ()) if x != "body")
        self.english = f"{where}: {error.get('msg', 'invalid')}"
        self.message = sentence(error)

    def render(self, lang: str | None = None) -> str:
        lang = lang or i18n.current()
        return self.english if lang == "en" else self.message.render(lang)

    def __str__(self) -> str:
        return self.render()


def problems_of(errors: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Every problem of a refused request (one that names none is a malformed request)."""
    return [RequestProblem(e) for e in errors] or [Msg("malformed request")]


def as_text(problems: Sequence[Any]) -> list[str]:
    """Problems as the API's body lists them: each as its reader reads it."""
    return [str(i18n.rendered(p)) for p in problems]
