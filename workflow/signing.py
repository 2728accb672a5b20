"""Signed checkpoints of the audit trail: one checkpoint's exact bytes, its Ed25519 signature, and
the check of that signature. Pure: no store, no configuration, no clock; the keys are given.

A checkpoint says "at this instant every chain of the trail ended here": for each chain its head
hash and the id of its newest entry (see workflow/audit.py), the one hash of all those heads, the
checkpoint before it (the sha256 of that one's signed bytes and signature, so that a checkpoint
removed from between two others is seen), why it was signed, and the fingerprint of the key that
signs it. The signed bytes are a fixed prefix and the checkpoint as canonical JSON (keys sorted,
no spaces, ASCII): anyone holding the public key and a checkpoint's fields can check it without
evalflow's database (`evalflow audit checkpoints --json` prints them).

Keys are PEM files as OpenSSL writes them: the private key PKCS#8 (unencrypted: the service signs
unattended; the file's mode keeps it), the public key SubjectPublicKeyInfo. A key's fingerprint
is the sha256 (hex) of its 32 raw public bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workflow.audit import GENESIS, combined

if TYPE_CHECKING:  # (cryptography is imported by the functions that use it: 0.1 s a command otherwise)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# what every signed text starts with: a signature over a checkpoint is never valid for another text
PREFIX = b"evalflow audit checkpoint v1\n"
WHY = ("publication", "daily", "manual")


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint: where each chain ended at ``at`` (chain -> (head hash, newest entry id)),
    signed by the key of fingerprint ``key``. ``id`` is its row's (not signed: the ``previous``
    link orders checkpoints)."""

    at: datetime
    why: str
    heads: Mapping[str, tuple[str, int]]
    previous: str = GENESIS
    key: str = ""
    signature: str = ""  # base64 of the 64 signature bytes
    id: int | None = None
    head: str = field(default="")  # combined(heads); filled in when empty

    def __post_init__(self) -> None:
        if not self.head:
            object.__setattr__(self, "head", combined({c: h for c, (h, _) in self.heads.items()}))

    @property
    def last_entry_id(self) -> int:
        """The newest entry the checkpoint covers, of any chain (0: an empty trail)."""
        return max((entry for _, entry in self.heads.values()), default=0)

    def as_dict(self) -> dict[str, Any]:
        """The checkpoint's fields as JSON keeps them (what :func:`from_dict` reads back)."""
        return {
            "id": self.id,
            "at": _instant(self.at),
            "why": self.why,
            "head": self.head,
            "heads": {chain: [value, entry] for chain, (value, entry) in sorted(self.heads.items())},
            "last_entry_id": self.last_entry_id,
            "previous": self.previous,
            "key": self.key,
            "signature": self.signature,
        }


def from_dict(data: Mapping[str, Any]) -> Checkpoint:
    """A checkpoint from :meth:`Checkpoint.as_dict`'s fields (a bundle, `--json` output)."""
    at = datetime.fromisoformat(str(data["at"]).replace("Z", "+00:00"))
    heads = {str(c): (str(v[0]), int(v[1])) for c, v in dict(data["heads"]).items()}
    return Checkpoint(
        at=at,
        why=str(data["why"]),
        heads=heads,
        previous=str(data.get("previous", GENESIS)),
        key=str(data.get("key", "")),
        signature=str(data.get("signature", "")),
        id=data.get("id"),
        head=str(data.get("head", "")),
    )


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signed_bytes(checkpoint: Checkpoint) -> bytes:
    """The exact bytes a checkpoint's signature is made over: everything but its id and signature."""
    body = {
        "at": _instant(checkpoint.at),
        "head": checkpoint.head,
        "heads": {chain: [value, entry] for chain, (value, entry) in checkpoint.heads.items()},
        "key": checkpoint.key,
        "previous": checkpoint.previous,
        "why": checkpoint.why,
    }
    return PREFIX + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def digest(checkpoint: Checkpoint) -> str:
    """What the next checkpoint's ``previous`` holds: the sha256 of this one's signed bytes and signature."""
    return hashlib.sha256(signed_bytes(checkpoint) + b"\n" + checkpoint.signature.encode("ascii")).hexdigest()


def fingerprint(public: Ed25519PublicKey) -> str:
    """A public key's fingerprint: the sha256 (hex) of its 32 raw bytes."""
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign(checkpoint: Checkpoint, private: Ed25519PrivateKey) -> Checkpoint:
    """The checkpoint signed with ``private`` (its ``key`` set to that key's fingerprint)."""
    named = replace(checkpoint, key=fingerprint(private.public_key()), signature="")
    signature = private.sign(signed_bytes(named))
    return replace(named, signature=base64.b64encode(signature).decode("ascii"))


def signature_holds(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    """Whether ``checkpoint``'s signature is ``public``'s over its signed bytes (and its head is
    the one hash of its heads, and its key names ``public``)."""
    from cryptography.exceptions import InvalidSignature

    if checkpoint.key != fingerprint(public):
        return False
    if checkpoint.head != combined({c: h for c, (h, _) in checkpoint.heads.items()}):
        return False
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public.verify(signature, signed_bytes(checkpoint))
    except (InvalidSignature, ValueError):
        return False
    return True


# -- keys as files' text --------------------------------------------------------------------------
def new_key() -> Ed25519PrivateKey:
    """A new Ed25519 private key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def private_pem(private: Ed25519PrivateKey) -> bytes:
    """A private key as a PEM file's bytes (PKCS#8, unencrypted)."""
    from cryptography.hazmat.primitives import serialization

    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(public: Ed25519PublicKey) -> bytes:
    """A public key as a PEM file's bytes (SubjectPublicKeyInfo, as `openssl pkey -pubout` writes)."""
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def read_private(data: bytes) -> Ed25519PrivateKey:
    """A private key from a PEM file's bytes; ValueError if it is not an unencrypted Ed25519 key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def read_public(data: bytes) -> Ed25519PublicKey:
    """A public key from a PEM file's bytes (or a private key's, whose public half is taken)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if b"PRIVATE KEY" in data:
        return read_private(data).public_key()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key
