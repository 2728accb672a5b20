"""Where attached files' contents are kept, each once, named by its sha256 (the engine's
BlobStore port, workflow/attachments.py):

- :class:`FolderBlobs`: a folder beside the SQLite database (``<db>.files/ab/abcdef…``), the
  embedded default; a file is written to a temporary name and renamed, so a reader never sees
  half of one;
- :class:`TableBlobs`: the database's ``blobs`` table (bytea on PostgreSQL), in the action's own
  transaction: the shared deployment's default, nothing beside the database to back up;
- :class:`S3Blobs`: an S3-compatible bucket through boto3 (installed separately: ``pip install
  boto3``), for a deployment whose files outgrow its database.

Which one: ``EVALFLOW_FILES`` or the ``[files] store`` of the configuration file (EVALFLOW_CONFIG
or ./evalflow.toml): ``folder:PATH``, ``database``, or ``s3://BUCKET/PREFIX`` (the endpoint of a
bucket not at AWS in ``[files] endpoint`` or ``EVALFLOW_S3_ENDPOINT``; credentials as boto3 finds
them: its environment variables, ~/.aws, an instance role). Unset: the folder beside a SQLite
file, else the table.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any, cast

from i18n import Msg
from workflow.attachments import AttachmentTx, BlobStore
from workflow.errors import InvalidInput
from workflow.ports import StoreTx


def _checked(sha256: str) -> str:
    # a blob's name is a sha256 in hex, never a path a caller chose
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return sha256


class FolderBlobs:
    """Blobs as files in a folder: ``ROOT/ab/abcdef…`` (the first two hex digits a subfolder)."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the blob ``sha256`` is kept."""
        name = _checked(sha256)
        return self.root / name[:2] / name

    def put(self, tx: StoreTx, sha256: str, data: bytes) -> bool:
        target = self.path(sha256)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return True

    def get(self, tx: StoreTx, sha256: str) -> bytes | None:
        target = self.path(sha256)
        return target.read_bytes() if target.exists() else None


class TableBlobs:
    """Blobs as rows of the database's ``blobs`` table, written in the action's transaction."""

    def put(self, tx: StoreTx, sha256: str, data: bytes) -> bool:
        return cast(AttachmentTx, tx).put_blob(_checked(sha256), data)

    def get(self, tx: StoreTx, sha256: str) -> bytes | None:
        return cast(AttachmentTx, tx).get_blob(_checked(sha256))


class S3Blobs:
    """Blobs as objects of an S3-compatible bucket: ``PREFIX/ab/abcdef…``."""

    def __init__(self, bucket: str, prefix: str = "", endpoint: str | None = None, client: Any = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if client is None:
            import boto3  # an optional dependency, imported only by a deployment that keeps files in S3

            client = boto3.client("s3", endpoint_url=endpoint)
        self.client = client

    def key(self, sha256: str) -> str:
        """The object key of the blob ``sha256``."""
        name = _checked(sha256)
        return f"{self.prefix}/{name[:2]}/{name}" if self.prefix else f"{name[:2]}/{name}"

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:  # botocore's ClientError: 404 means absent, anything else is raised
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put(self, tx: StoreTx, sha256: str, data: bytes) -> bool:
        key = self.key(sha256)
        if self._exists(key):
            return False
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ChecksumAlgorithm="SHA256")
        return True

    def get(self, tx: StoreTx, sha256: str) -> bytes | None:
        key = self.key(sha256)
        if not self._exists(key):
            return None
        return cast(bytes, self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())


def files_settings() -> dict[str, Any]:
    """The ``[files]`` table of the configuration file (EVALFLOW_CONFIG or ./evalflow.toml), with
    EVALFLOW_FILES and EVALFLOW_S3_ENDPOINT over it."""
    out: dict[str, Any] = {}
    chosen = os.environ.get("EVALFLOW_CONFIG") or ("evalflow.toml" if Path("evalflow.toml").exists() else None)
    if chosen:
        try:
            data = tomllib.loads(Path(chosen).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            data = {}  # (the notification settings' reader reports a broken file)
        files = data.get("files")
        if isinstance(files, dict):
            out.update(files)
    if os.environ.get("EVALFLOW_FILES"):
        out["store"] = os.environ["EVALFLOW_FILES"]
    if os.environ.get("EVALFLOW_S3_ENDPOINT"):
        out["endpoint"] = os.environ["EVALFLOW_S3_ENDPOINT"]
    return out


def blob_store(sqlite_path: Path | None, settings: dict[str, Any] | None = None) -> BlobStore:
    """The blob store the settings name (see the module's text); unset: a folder beside the
    SQLite database ``sqlite_path``, or the database's table."""
    settings = files_settings() if settings is None else settings
    chosen = str(settings.get("store") or "")
    if chosen.startswith("folder:"):
        return FolderBlobs(Path(chosen.removeprefix("folder:")))
    if chosen == "database":
        return TableBlobs()
    if chosen.startswith("s3://"):
        bucket, _, prefix = chosen.removeprefix("s3://").partition("/")
        return S3Blobs(bucket, prefix, settings.get("endpoint"))
    if chosen:
        raise InvalidInput(
            Msg("file store setting"),
            [Msg("{value} is not folder:PATH, database or s3://BUCKET/PREFIX", value=repr(chosen))],
        )
    if sqlite_path is not None:
        return FolderBlobs(sqlite_path.with_name(sqlite_path.name + ".files"))
    return TableBlobs()
