"""The canonical text an audit entry is hashed over: the short path for the usual entry writes
exactly what the general encoding of the same content writes (sorted keys, no spaces, text as it
is), whatever its fields hold."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime, timedelta, timezone

from workflow.audit import GENESIS, canonical, chain_of, data_text, seal
from workflow.records import AuditEntry, plain

ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode
TEXTS = ["", "score", 'a "quoted" \\ text', "line\nbreak\ttab\x01", "合肥 较好", "emoji 🎉", "\u2028\u2029", "null"]


def general(entry: AuditEntry) -> str:
    """The content as one dict through the encoder: the definition the chain was built on."""
    at = entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if entry.at else ""
    return ENCODE(
        {
            "at": at,
            "cycle": entry.cycle_id,
            "subject": entry.subject,
            "subject_id": entry.subject_id,
            "actor": entry.actor,
            "action": entry.action,
            "from": entry.from_state,
            "to": entry.to_state,
            "reason": entry.reason,
            "data": plain(entry.data),
        }
    )


def field_value(rng: random.Random) -> object:
    return rng.choice([*TEXTS, None, None, 7, 2.5, True, date(2027, 5, 1)])


def data_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(6 if depth < 2 else 3)
    if kind == 0:
        return rng.choice(TEXTS)
    if kind == 1:
        return rng.choice([0, -3, 10**20, 1.5, True, False, None])
    if kind == 2:
        return date(2027, 1, rng.randrange(1, 28))
    if kind == 3:
        return [data_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 4:
        return tuple(data_value(rng, depth + 1) for _ in range(rng.randrange(3)))
    return {rng.choice([*TEXTS, 1, 2]): data_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def random_entry(rng: random.Random, at: datetime | None = None) -> AuditEntry:
    zones = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    usual = rng.random() < 0.5  # every field text or None (the short path), or anything
    pick = (lambda: rng.choice([*TEXTS, None])) if usual else (lambda: field_value(rng))
    plain_data = rng.random() < 0.5  # a dict of scalars and dicts of scalars (no copy made), or anything
    if plain_data:
        scalar = lambda: rng.choice([*TEXTS, 0, -3, 10**20, 1.5, True, None])  # noqa: E731
        data = {
            rng.choice(TEXTS): scalar() if rng.random() < 0.6 else {rng.choice(TEXTS): scalar() for _ in range(3)}
            for _ in range(rng.randrange(6))
        }
    else:
        data = {rng.choice(TEXTS): data_value(rng) for _ in range(rng.randrange(6))}
    return AuditEntry(
        at=at
        or rng.choice([None, datetime(2027, 5, 10, 9, 30, rng.randrange(60), rng.randrange(10**6), rng.choice(zones))]),
        cycle_id=pick(),  # type: ignore[arg-type]
        subject=pick(),  # type: ignore[arg-type]
        subject_id=pick(),  # type: ignore[arg-type]
        actor=pick(),  # type: ignore[arg-type]
        action=pick(),  # type: ignore[arg-type]
        from_state=pick(),  # type: ignore[arg-type]
        to_state=pick(),  # type: ignore[arg-type]
        reason=pick(),  # type: ignore[arg-type]
        data=data,
    )


def test_the_canonical_text_is_the_general_encoding_of_the_content() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        entry = random_entry(rng)
        assert canonical(entry) == general(entry)
        assert data_text(entry.data) == ENCODE(plain(entry.data))


def test_sealing_a_batch_gives_each_entry_the_hash_of_its_general_encoding() -> None:
    """seal() writes the text around a batch's subject ids and data once per set of the other
    fields: each hash is still the one of the entry's general encoding after the one before, and
    each data text the data's own, for usual and unusual entries mixed in one batch."""
    rng = random.Random(11)
    shared = datetime(2027, 5, 10, 1, 0, tzinfo=UTC)
    batch = [random_entry(rng, at=shared if rng.random() < 0.7 else None) for _ in range(1500)]
    for entry in batch[::3]:  # many entries alike but for their subject id, as in a real batch
        entry.action, entry.actor, entry.cycle_id, entry.reason = "score", "hefei-scorer", "g60-2027", ""
        entry.subject, entry.from_state, entry.to_state = "project", "recommended", "recommended"
    heads: dict[str, str] = {}
    texts = seal(batch, heads)
    previous: dict[str, str] = {}
    for entry, text in zip(batch, texts, strict=True):
        chain = chain_of(entry.cycle_id)
        expected = hashlib.sha256((previous.get(chain, GENESIS) + "\n" + general(entry)).encode()).hexdigest()
        assert (entry.prev_hash, entry.hash) == (previous.get(chain, GENESIS), expected)
        assert text == ENCODE(plain(entry.data))
        previous[chain] = expected
    assert heads == previous


def test_a_score_sheets_entry_is_written_as_before() -> None:
    entry = AuditEntry(
        at=datetime(2027, 5, 10, 1, 0, tzinfo=UTC),
        cycle_id="g60-2027",
        subject="project",
        subject_id="12",
        actor="hefei-scorer",
        action="score",
        from_state="recommended",
        to_state="recommended",
        reason="",
        data={"scores": {"value": 19, "mechanism": 18}, "bands": {"value": "较好"}, "total": 37, "city": "hefei"},
    )
    assert canonical(entry) == (
        '{"action":"score","actor":"hefei-scorer","at":"2027-05-10T01:00:00.000000Z","cycle":"g60-2027",'
        '"data":{"bands":{"value":"较好"},"city":"hefei","scores":{"mechanism":18,"value":19},"total":37},'
        '"from":"recommended","reason":"","subject":"project","subject_id":"12","to":"recommended"}'
    )


def test_an_encoder_made_once_writes_what_the_json_module_writes() -> None:
    from dataclasses import dataclass

    from workflow.jsontext import encoder

    @dataclass
    class Point:
        x: int
        y: str

    def default(value: object) -> object:
        return {"x": value.x, "y": value.y} if isinstance(value, Point) else str(value)

    rng = random.Random(11)
    values: list[object] = [
        "text",
        "合肥",
        5,
        -0.0,
        1e300,
        float("inf"),
        float("nan"),
        None,
        True,
        [],
        {},
        (1, "2"),
        {"b": 1, "a": [Point(1, "较好"), date(2027, 1, 2)]},
        {1: "int key", 2.5: "float key", False: "bool key", None: "none key"},
    ]
    values += [data_value(rng) for _ in range(500)]
    for options in (
        {"default": default},
        {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False, "default": default},
        {"ensure_ascii": False, "default": default},
    ):
        once = encoder(**options)
        for value in values:
            try:
                expected = json.JSONEncoder(**options).encode(value)
            except TypeError:  # keys of mixed kinds cannot be sorted
                continue
            assert once(value) == expected
