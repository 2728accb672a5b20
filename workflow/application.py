"""An application: read from a TOML or JSON file, and checked against its program's form
(workflow/form.py): every field present, every problem listed at once. Eligibility is a
separate matter, decided by the program's policies."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from i18n import Msg
from workflow.errors import InvalidInput, os_reason
from workflow.form import Form
from workflow.inputs import load_json


def read_application(path: Path) -> dict[str, Any]:
    """Read an application file (.toml or .json)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            Msg("application file {path}", path=path), [Msg("cannot be read: {why}", why=os_reason(exc))]
        ) from None
    what = Msg("application file {path}", path=path)
    try:
        text = raw.decode("utf-8-sig")
        if path.suffix.lower() == ".json":
            data = load_json(text, what, rows=100)  # (one application, its team included: far below this)
        elif path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        else:
            raise InvalidInput(what, [Msg("use a .toml or .json file")])
    except UnicodeDecodeError:
        raise InvalidInput(what, [Msg("not UTF-8 text")]) from None
    except RecursionError:
        raise InvalidInput(what, [Msg("it is nested too deeply to read")]) from None
    except ValueError as exc:  # tomllib's own errors, and int's limit on digits
        raise InvalidInput(what, [Msg("cannot be parsed: {why}", why=" ".join(str(exc).split())[:200])]) from None
    if not isinstance(data, dict):
        raise InvalidInput(Msg("application file {path}", path=path), [Msg("the top level must be a table/object")])
    return data


def validate_application(
    data: Mapping[str, Any], form: Form, written: tuple[tuple[str, ...], ...] = ()
) -> dict[str, Any]:
    """A normalised copy of the application, or InvalidInput listing every missing or bad field
    of the program's form, and every key that is not one of its fields (``written``: the places
    where the program's actions write on an application, see :func:`written_paths`)."""
    return form.validate(data, written)


def written_paths(params: Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]]) -> tuple[tuple[str, ...], ...]:
    """The places a program's actions write on an application, from its ``application_params``."""
    return tuple(keys for writes in params.values() for _, keys in writes)


def written(app: Mapping[str, Any], keys: tuple[str, ...], value: Any) -> dict[str, Any]:
    """``app`` with ``value`` at ``keys`` (an action's parameter written on the application, say
    a city's opinion on acceptance); a new mapping, the stored one is never changed in place."""
    head, *rest = keys
    if not rest:
        return {**app, head: value}
    inner = app.get(head)
    return {**app, head: written(inner if isinstance(inner, Mapping) else {}, tuple(rest), value)}


def as_submitted(app: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    """``app`` without what actions wrote on it at ``paths`` (and the tables left empty by their
    removal): what the applicant sent, to tell a submission sent again from a changed one."""
    out = dict(app)
    for keys in paths:
        out = _dropped(out, keys)
    return out


def _dropped(app: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    head, *rest = keys
    out = dict(app)
    if not rest:
        out.pop(head, None)
        return out
    inner = out.get(head)
    if isinstance(inner, Mapping):
        inner = _dropped(inner, tuple(rest))
        if inner:
            out[head] = inner
        else:
            out.pop(head)
    return out
