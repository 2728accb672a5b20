"""JSON text made many times a batch (score sheets' columns, audit rows and their hashes).

``json.JSONEncoder.encode`` makes a new C encoder on every call, and a dict for its circular
reference check: about 1 µs before it writes a character, four times for each score sheet. An
encoder made here is made once and writes the same text as ``JSONEncoder(**options).encode``.
The one difference is for a value that contains itself: the recursion limit stops it
(RecursionError) instead of the check (ValueError); what is written never contains itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any


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
