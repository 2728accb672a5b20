"""The audit trail an auditor can trust: a hash chain, its check, and state rebuilt from it.

Every audit entry stores the hash of the entry before it in its chain (one chain per cycle, and
one for what belongs to no cycle) and the hash of its own canonical content together with that
previous hash. Editing, deleting, reordering or inserting an entry breaks the chain at that entry;
cutting off the newest entries is seen by comparing the head with one kept elsewhere
(`evalflow audit head`, then `audit verify --head HASH`).

Replaying the trail rebuilds every project's state from its entries alone, through the program's
machine, and compares it with the stored state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from itertools import groupby
from typing import Any

from i18n import Msg
from i18n import plain as said_plain
from workflow.jsontext import encoder, sorted_compact
from workflow.records import AuditEntry, plain

GENESIS = "0" * 64  # the "previous hash" of a chain's first entry


def chain_of(cycle_id: str | None) -> str:
    """The chain an entry belongs to: its cycle's, or the one of entries outside any cycle."""
    return cycle_id or "-"


# keys sorted, no spaces, text as it is; one encoder for every entry, made once (workflow/jsontext.py)
_CANONICAL = encoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
# a text value as that encoder writes it (ensure_ascii=False)
_TEXT = json.encoder.encode_basestring


def canonical(entry: AuditEntry) -> str:
    """The entry's content as one exact text: every recorded field, keys sorted, no spaces,
    instants in UTC to the microsecond. Its id is not part of it (the chain orders entries)."""
    return _canonical(entry, data_text(entry.data))


def data_text(data: Mapping[str, Any]) -> str:
    """An entry's data in its canonical text (keys sorted, no spaces, text as it is), as it reads
    back from the database (keys as text). It is also the text the database stores for the data:
    encoded once for both, and what is read back encodes to this same text again."""
    kind = _plain_kind(data)
    if kind == _EXACT:  # orjson writes exactly json's text for it (workflow/jsontext.py)
        text = sorted_compact(data)  # type: ignore[arg-type]
        if text is not None:
            return text
    return _CANONICAL(data if kind is not None else plain(data))


_EXACT_SCALARS = frozenset((str, int, bool, type(None)))  # JSON scalars but floats
_EXACT, _PLAIN = "exact", "plain"


def _plain_kind(data: Mapping[str, Any]) -> str | None:
    """Whether ``data`` is as it reads back already (a dict of text keys whose values are JSON
    scalars, or dicts of those): its copy by ``plain`` would encode the same. Most entries'
    data is; checking costs about half the copy. _EXACT: and without a float (the digits of a few
    floats are the one thing orjson writes otherwise); _PLAIN: with one; None: neither."""
    if type(data) is not dict:
        return None
    kind = _EXACT
    for key, value in data.items():
        if type(key) is not str:
            return None
        of = type(value)
        if of in _EXACT_SCALARS:
            continue
        if of is float:
            kind = _PLAIN
            continue
        if of is not dict:
            return None
        for k, v in value.items():
            if type(k) is not str:
                return None
            of = type(v)
            if of not in _EXACT_SCALARS:
                if of is not float:
                    return None
                kind = _PLAIN
    return kind


def _canonical(entry: AuditEntry, data: str) -> str:
    """:func:`canonical`, the data already in its text."""
    frame = _framing(entry)
    subject_id = entry.subject_id
    if frame is not None and (type(subject_id) is str or subject_id is None):
        # the usual entry, its fields text or None: the same text as the encoder's below, written
        # around the data's own encoding (the keys in their sorted order)
        return _framed(frame, data, subject_id)
    at = _utc_text(entry.at) if entry.at else ""
    content = {
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
    return _CANONICAL(content)


@lru_cache(maxsize=16)  # a batch's entries share one instant
def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link(previous: str, entry: AuditEntry) -> str:
    """The hash of ``entry`` following ``previous`` in its chain."""
    return hashlib.sha256((previous + "\n" + canonical(entry)).encode("utf-8")).hexdigest()


def seal(entries: Sequence[AuditEntry], heads: dict[str, str]) -> list[str]:
    """Give each new entry its place in its chain (``prev_hash`` and ``hash``), in order;
    ``heads`` (chain -> its newest hash) is advanced as it goes. Returns each entry's data in
    its canonical text (:func:`data_text`), for the database to store as it is."""
    texts: list[str] = []
    each = iter(entries)
    for template, items in runs(entries):
        for _, _, _, text, previous, digest in seal_batch(template, items, heads):
            entry = next(each)
            entry.prev_hash, entry.hash = previous, digest
            texts.append(text)
    return texts


# one entry of a batch (seal_batch): its subject id, from and to states, and data
Item = tuple[str, str | None, str | None, Mapping[str, Any]]


def runs(entries: Iterable[AuditEntry]) -> Iterator[tuple[AuditEntry, list[Item]]]:
    """The entries, in order, in runs alike but for their subject ids, states and data: each run
    as its first entry (the template the others follow) and its items (see seal_batch)."""
    for _, run in groupby(entries, key=_alike):
        alike = list(run)
        yield alike[0], [(e.subject_id, e.from_state, e.to_state, e.data) for e in alike]


def _alike(entry: AuditEntry) -> tuple[Any, ...]:
    return (entry.action, entry.actor, entry.at, entry.cycle_id, entry.reason, entry.subject)


def seal_batch(
    template: AuditEntry, items: Iterable[Item], heads: dict[str, str]
) -> list[tuple[str, str | None, str | None, str, str, str]]:
    """Seal entries that are ``template`` but for each item's subject id, states and data (a
    batch's transitions: one actor, action and instant), in order, into the template's chain;
    ``heads`` is advanced. Returns, per item, (subject id, from, to, its data's canonical text,
    the previous hash, its hash): the entries are never made as records. The hashes are the
    ones :func:`link` gives the same entries."""
    chain = chain_of(template.cycle_id)
    previous = heads.get(chain, GENESIS)
    # the canonical text around an entry's subject id and data is made once for each pair of
    # states (the same text _canonical makes)
    framing: dict[tuple[str | None, str | None], tuple[str, str, str] | None] = {}
    sha256 = hashlib.sha256
    out = []
    for subject_id, from_state, to_state, data in items:
        text = data_text(data)
        frame = framing.get((from_state, to_state), _UNSEEN)
        if frame is _UNSEEN:
            frame = framing[(from_state, to_state)] = _framing(
                replace(template, from_state=from_state, to_state=to_state)
            )
        if frame is not None and type(subject_id) is str:
            whole = _framed(frame, text, subject_id)
        else:
            entry = replace(template, subject_id=subject_id, from_state=from_state, to_state=to_state, data=dict(data))
            whole = _canonical(entry, text)
        digest = sha256((previous + "\n" + whole).encode("utf-8")).hexdigest()
        out.append((subject_id, from_state, to_state, text, previous, digest))
        previous = digest
    heads[chain] = previous
    return out


_UNSEEN: Any = object()


def _framed(frame: tuple[str, str, str], data: str, subject_id: str | None) -> str:
    """The canonical text of a usual entry: its framing (see _framing) around its data's text and
    its subject id."""
    head, middle, tail = frame
    return f"{head}{data}{middle}{'null' if subject_id is None else _TEXT(subject_id)}{tail}"


def _framing(entry: AuditEntry) -> tuple[str, str, str] | None:
    """The canonical text of a usual entry (see _canonical) before its data, between its data and
    its subject id, and after that; None for an entry of another kind."""
    at = _utc_text(entry.at) if entry.at else ""
    outer = (
        entry.action,
        entry.actor,
        at,
        entry.cycle_id,
        entry.from_state,
        entry.reason,
        entry.subject,
        entry.to_state,
    )
    texts = [_TEXT(v) if type(v) is str else "null" if v is None else "" for v in outer]
    if "" in texts:
        return None
    action, actor, at, cycle, from_, reason, subject, to = texts
    return (
        f'{{"action":{action},"actor":{actor},"at":{at},"cycle":{cycle},"data":',
        f',"from":{from_},"reason":{reason},"subject":{subject},"subject_id":',
        f',"to":{to}}}',
    )


@dataclass(frozen=True)
class Break:
    """The first entry where a chain does not hold, and why."""

    chain: str
    entry_id: int | None
    why: str | Msg  # (a checkpoint's check says it as a message of the catalog)

    def __str__(self) -> str:
        where = f"entry {self.entry_id}" if self.entry_id is not None else "the end of the chain"
        return f"chain {self.chain}: {where}: {self.why}"

    def words(self) -> Msg:
        """The break as a reader reads it, in their language (its reason as the check gives it):
        the command line's refusal and the console's audit page both say it so."""
        where = Msg("entry {id}", id=self.entry_id) if self.entry_id is not None else Msg("the end of the chain")
        return Msg("chain {chain}: {where}: {why}", chain=self.chain, where=where, why=self.why)


def verify(
    entries: Iterable[AuditEntry], heads: Mapping[str, str] | None = None
) -> tuple[list[Break], dict[str, tuple[str, int | None]]]:
    """Walk every chain in id order and report the first break of each; ``heads`` (chain -> the
    newest hash the database records for it) must be where each chain ends. Returns the breaks
    and where each chain ends (its newest hash and entry id)."""
    last: dict[str, str] = {}
    last_id: dict[str, int | None] = {}
    broken: dict[str, Break] = {}
    for entry in entries:
        chain = chain_of(entry.cycle_id)
        if chain in broken:
            continue
        previous = last.get(chain, GENESIS)
        if entry.prev_hash != previous:
            why = (
                "it is not linked to the entry before it (an entry was removed, inserted or moved here)"
                if entry.prev_hash
                else "it has no link to the entry before it"
            )
            broken[chain] = Break(chain, entry.id, why)
            continue
        if entry.hash != link(previous, entry):
            broken[chain] = Break(chain, entry.id, "its content does not match its hash (it was changed)")
            continue
        last[chain] = entry.hash or ""
        last_id[chain] = entry.id
    for chain, expected in (heads or {}).items():
        if chain not in broken and last.get(chain, GENESIS) != expected:
            broken[chain] = Break(chain, None, _cut(last.get(chain, GENESIS), last_id.get(chain), expected))
    ends = {chain: (value, last_id.get(chain)) for chain, value in last.items()}
    return sorted(broken.values(), key=lambda b: (b.entry_id is None, b.entry_id or 0, b.chain)), ends


def _cut(found: str, entry_id: int | None, expected: str) -> str:
    return (
        f"it ends at {found[:12]} (entry {entry_id}), not at the head {expected[:12]}: "
        "entries were cut off, or the head is not this database's"
    )


def combined(ends: Mapping[str, str]) -> str:
    """One hash for the heads of several chains (what `audit head` prints for a whole database)."""
    lines = "\n".join(f"{chain} {value}" for chain, value in sorted(ends.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Difference:
    project_id: int
    stored: str
    replayed: str
    why: str = ""

    def __str__(self) -> str:
        extra = f" ({self.why})" if self.why else ""
        return f"project {self.project_id}: stored '{self.stored}', the trail gives '{self.replayed}'{extra}"


def replay_states(entries: Iterable[AuditEntry], fire: Any) -> tuple[dict[int, str], list[Difference]]:
    """Every project's state rebuilt from its entries alone: each project entry must start where
    the previous one ended and, fired through the program's machine (``fire(state, action,
    data)`` -> the state it leads to, or None), end where it says. Returns the states and what
    did not follow."""
    states: dict[int, str] = {}
    problems: list[Difference] = []
    for e in entries:
        if e.subject != "project" or e.from_state is None and e.to_state is None:
            continue
        pid = int(e.subject_id)
        now = states.get(pid, "new")
        if (e.from_state or "new") != now:
            problems.append(Difference(pid, e.from_state or "new", now, f"entry {e.id} starts elsewhere"))
        dest = fire(e.from_state or "new", e.action, e.data or {})
        if dest is not None and dest != e.to_state:
            problems.append(Difference(pid, e.to_state or "", dest, f"entry {e.id}: the machine leads elsewhere"))
        states[pid] = e.to_state or now
    return states, problems


def as_dicts(breaks: Sequence[Break]) -> list[dict[str, Any]]:
    return [{"chain": b.chain, "entry": b.entry_id, "why": said_plain(b.why)} for b in breaks]
