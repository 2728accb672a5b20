"""The JSON evalflow stores: orjson where it writes what the json module does, json where it might
not. What is stored must read back as the same value (a NaN stays a NaN), and the text an audit
hash is made over must stay exactly json's."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from store.sql import stored_json
from workflow.audit import data_text
from workflow.jsontext import compact, sorted_compact
from workflow.records import plain

JSON_OF = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode
CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode
LONE = "\ud800"  # a lone surrogate: json writes it, orjson refuses it

scalars = (
    st.none() | st.booleans() | st.integers() | st.text() | st.sampled_from(["合肥 较好", "🎉", "\x00\x1f\x7f", LONE])
)
no_float = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
)
floats = st.floats(allow_nan=True, allow_infinity=True)
anything = st.recursive(
    scalars | floats,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text() | st.integers(), inner, max_size=4)
        | st.tuples(inner, inner)
    ),
)


def same(a: object, b: object) -> bool:
    """Equal values, a NaN equal to a NaN, a list as json reads a tuple."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=400, deadline=None)
@given(no_float)
def test_a_value_without_floats_is_written_exactly_as_json_writes_it(value: object) -> None:
    assert compact(str)(value) == JSON_OF(value)


@settings(max_examples=400, deadline=None)
@given(anything)
def test_any_value_is_stored_as_json_would_store_it_and_reads_back_the_same(value: object) -> None:
    """Floats may be written in other digits (1e-05 as 0.00001), never as another value; a NaN
    or an infinity stays one (orjson alone would write null)."""
    assert same(json.loads(compact(str)(value)), json.loads(JSON_OF(value)))


def test_what_orjson_would_change_is_written_by_json() -> None:
    for value in (
        float("nan"),
        {"amount": float("inf")},
        [float("-inf"), 1],
        2**64,
        -(2**63) - 1,
        {1: "a key that is not text", None: "nor this"},
        {"unit": LONE},
    ):
        assert compact(str)(value) == JSON_OF(value), value


def test_a_record_or_an_instant_goes_to_the_given_default_as_with_json() -> None:
    @dataclass
    class Entry:
        project_id: int
        city: str
        at: datetime

    def default(value: object) -> object:
        if isinstance(value, Entry):
            return {"project_id": value.project_id, "city": value.city, "at": value.at}
        return f"instant {value.isoformat()}" if isinstance(value, datetime) else str(value)

    value = {"entries": [Entry(1, "合肥", datetime(2027, 5, 1, tzinfo=UTC))], "on": date(2027, 5, 2)}
    expected = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=default).encode(value)
    assert compact(default)(value) == expected
    assert '"at":"instant 2027-05-01T00:00:00+00:00"' in expected


def test_the_store_refuses_what_it_cannot_write_as_before() -> None:
    for value in ({"at": datetime(2027, 5, 1, tzinfo=UTC)}, {"on": date(2027, 5, 1)}, object()):
        try:
            stored_json(value)
        except TypeError as exc:
            assert "is not JSON serializable" in str(exc)
        else:
            raise AssertionError(f"{value!r} was written")


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(), no_float, max_size=6))
def test_the_audit_text_of_data_without_floats_is_json_canonical_text(data: dict[str, object]) -> None:
    assert data_text(data) == CANONICAL(plain(data))


def test_sorted_compact_sorts_keys_as_json_does() -> None:
    data = {"b": 1, "a": {"d": 1, "c": 2}, "😀": 1, "\uffff": 2, "合肥": 3, "Z": 4}
    assert sorted_compact(data) == CANONICAL(data)
    assert sorted_compact({"big": 2**64}) is None


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), floats | st.dictionaries(st.text(), floats | st.integers(), max_size=3), max_size=4))
def test_the_audit_text_of_data_with_floats_is_json_canonical_text(data: dict[str, object]) -> None:
    assert data_text(data) == CANONICAL(plain(data))


def test_floats_orjson_writes_in_other_digits_keep_json_digits_in_the_audit_text() -> None:
    data = {"small": 1e-05, "large": {"x": 1e16}, "none": float("nan"), "whole": 3}
    assert data_text(data) == '{"large":{"x":1e+16},"none":NaN,"small":1e-05,"whole":3}'
