"""A published list anyone can check without the database (workflow/publication.py): on the prebuilt
cycle confirmed, published by a server that signs its checkpoints, the bundle holds; any one byte
changed, anywhere in it, fails; a bundle of another key fails against the office's fingerprint;
a publication that was not signed has no bundle, said in one line, nothing changed."""

from __future__ import annotations

import json

import pytest

from tests.conftest import LEAD, admin, applicant, sh, snapshot
from workflow.checkpoints import KeyRing
from workflow.errors import RuleRefused
from workflow.publication import verify_bundle
from workflow.signing import fingerprint, new_key

KEY = new_key()


def published(at_stage, signer=KEY):
    s = at_stage("confirmed")
    s.engine.keyring = KeyRing(signer=signer, trusted={fingerprint(signer.public_key()): signer.public_key()})
    s.clock.set(sh(6, 12))
    s.engine.publish(LEAD)
    return s


def test_a_published_list_holds_and_any_changed_byte_fails(at_stage):
    s = published(at_stage)
    name, data = s.engine.publication_bundle(applicant("wuhu"))  # (the list is public once published)
    assert name == "g60-2027-list-v1.bundle.json"
    found = verify_bundle(data, fingerprint(KEY.public_key()))
    assert found.ok, [str(p) for p in found.problems]
    assert len(found.held) == 3 and found.document["version"] == 1 and len(found.document["entries"]) == 5
    bundle = json.loads(data)
    # what is public, nothing else: the named projects, no rank or score, no project left off
    assert [e["project"] for e in bundle["list"]["entries"]] == s.high + s.mid
    assert all(set(e) == {"project", "city", "unit", "project_name", "category"} for e in bundle["list"]["entries"])
    assert set(bundle) == {"format", "list", "signature", "checkpoint", "public_key", "fingerprint"}
    # every byte changed in turn (its lowest bit flipped): each one fails
    held = [i for i in range(len(data)) if verify_bundle(data[:i] + bytes([data[i] ^ 1]) + data[i + 1 :]).ok]
    assert held == []


def test_a_bundle_of_another_key_fails_against_the_offices_fingerprint(at_stage):
    other = new_key()
    s = published(at_stage, other)
    _, data = s.engine.publication_bundle(LEAD)
    assert verify_bundle(data).ok  # (it holds under its own key…)
    found = verify_bundle(data, fingerprint(KEY.public_key()))  # (…not under the office's)
    assert not found.ok and f"the bundle is signed by key {fingerprint(other.public_key())}" in str(found.problems[0])


def test_a_changed_list_fails_even_when_written_canonically(at_stage):
    import rfc8785

    s = published(at_stage)
    _, data = s.engine.publication_bundle(LEAD)
    bundle = json.loads(data)
    bundle["list"]["entries"][0]["category"] = "excellent"  # (a canonical file, its list changed)
    found = verify_bundle(rfc8785.dumps(bundle))
    assert [str(p) for p in found.problems] == ["the list's signature does not hold: it is not the list published"]


def test_an_unsigned_publication_has_no_bundle(at_stage):
    s = at_stage("published")  # (published by a server without a signing key)
    before = snapshot(s.store)
    with pytest.raises(RuleRefused) as err:
        s.engine.publication_bundle(admin("hefei"))
    assert (
        "[publication_signed] the publication of list version 1 was not signed (no signing key was configured then)"
        in str(err.value)
    )
    assert snapshot(s.store) == before


def test_the_fast_canonical_text_is_rfc8785s():
    """canonical_bytes writes values without floats with the standard library's encoder: the same
    bytes as rfc8785 writes, for any such value (text of any script, escapes, nesting, integers at
    the edge of the safe range)."""
    import rfc8785
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from workflow.publication import _plain, canonical_bytes

    keys = st.text(st.characters(max_codepoint=127), max_size=8)
    scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20)
    values = st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=20
    )

    @settings(max_examples=300, deadline=None)
    @given(values)
    def same(value):
        assert _plain(value)
        try:
            expected = bytes(rfc8785.dumps(value))
        except Exception:  # noqa: BLE001  (a lone surrogate: neither writes it)
            with pytest.raises(UnicodeEncodeError):
                canonical_bytes(value)
            return
        assert canonical_bytes(value) == expected

    same()
    assert canonical_bytes({"a": 0.5}) == b'{"a":0.5}' and not _plain({"é": 1})  # (rfc8785 writes these)


def test_a_forged_bundle_holds_only_under_its_own_key_and_a_crafted_one_is_a_problem_not_a_crash(at_stage):
    """Without the office's fingerprint a bundle signed by anyone holds under its own key, and the
    check says whose, never that it is the office's; values no writer makes (NaN, 1e400, a huge
    integer, a lone surrogate, a list for a text) are problems, not exceptions."""
    s = published(at_stage)
    _, data = s.engine.publication_bundle(LEAD)
    found = verify_bundle(data)
    assert found.ok and not any("the public key is the one" in str(h) for h in found.held)
    text = data.decode()
    for bad in ("NaN", "1e400", "1" * 30, '"\\ud800"', '["x"]'):
        crafted = text.replace('"published_at":', f'"x":{bad},"published_at":', 1).encode()
        assert not verify_bundle(crafted).ok
