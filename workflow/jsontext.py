"""JSON text made many times a batch (score sheets' columns, audit rows and their hashes).

``json.JSONEncoder.encode`` makes a new C encoder on every call, and a dict for its circular
reference check: about 1 µs before it writes a character, four times for each score sheet. An
encoder made here is made once and writes the same text as ``JSONEncoder(**options).encode``.
The one difference is for a value that contains itself: the recursion limit stops it
(RecursionError) instead of the check (ValueError); what is written never contains itself.

Below it, the same texts by orjson, where orjson writes exactly what json does (and json where it
might not).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

import orjson


def encoder(**options: Any) -> Callable[[Any], str]:
    """``json.JSONEncoder(**options).encode``, made once (no indent: one line)."""
    general = json.JSONEncoder(**options)
    if c_make_encoder is None or general.indent is not None:  # no C accelerator: as json does it
        return general.encode
    text = encode_basestring_ascii if general.ensure_ascii else encode_basestring
    chunks = c_make_encoder(
        None,  # no circular reference check (see above)
        general.default,
        text,
        None,
        general.key_separator,
        general.item_separator,
        general.sort_keys,
        general.skipkeys,
        general.allow_nan,
    )
    join = "".join

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return text(value)
        return join(chunks(value, 0))

    return encode


# -- orjson where it writes exactly what json does ----------------------------------------------
# orjson writes JSON four to five times faster than json (an application of 1.2 KB: 1.8 µs instead
# of 9.5). Where the two could differ, json is asked instead:
# - orjson refuses what json takes (keys not text, integers past 64 bits, lone
#   surrogates): json writes it;
# - it writes NaN and the infinities as null, which would change the value: any text holding
#   "null" is written again by json (a real null costs only the second encoding);
# - it writes some floats in other digits (1e-05 as 0.00001): the same value, read back alike, but
#   not the same text, so the audit's canonical text (what hashes are made over) takes orjson only
#   for data without floats (see workflow/audit.py).
# Reading stays with json: orjson reads an integer past 64 bits as a float, and telling such a
# text apart (a run of 19 digits) costs more than orjson saves.
_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def compact(default: Callable[[Any], Any]) -> Callable[[Any], str]:
    """JSON text without spaces and with text as it is (UTF-8): what
    ``json.JSONEncoder(default=default, separators=(",", ":"), ensure_ascii=False).encode``
    writes, the digits of a few floats aside (the same value). ``default`` is asked for what
    neither writes itself (a dataclass, an instant, …)."""
    general = encoder(default=default, separators=(",", ":"), ensure_ascii=False)
    dumps = orjson.dumps
    Failed = orjson.JSONEncodeError

    def encode(value: Any) -> str:
        try:
            text = dumps(value, default=default, option=_PASSTHROUGH)
        except Failed:
            return general(value)
        if b"null" in text:  # a NaN or an infinity would be null
            return general(value)
        return text.decode()

    return encode


def sorted_compact(value: dict[str, Any]) -> str | None:
    """A dict of text keys and JSON values with no float, keys sorted, no spaces, text as it is;
    None where orjson refuses it (an integer past 64 bits, a lone surrogate): the caller asks json."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:
        return None
