"""An import's progress and result where every worker of the server reads them (`evalflow serve
--workers N`): a small JSON file per upload beside the uploads, written by the worker running the
import and read by any other asked for the upload's page. A check writes nothing and any worker
runs it again; an import runs once, so its state is what is shared."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

FIELDS = ("kind", "owner", "cycle_id", "total", "done", "finished", "created", "unchanged")
EVERY = 0.5  # seconds: progress is written at most this often (the page refreshes each second)


def _path(root: Path, upload_id: str) -> Path:
    return root / ".jobs" / f"{upload_id}.json"


def publish(root: Path, upload_id: str, job: Any, lines: list[str] | None = None) -> None:
    """Write the import's state for the other workers (atomically: a reader sees a whole file)."""
    path = _path(root, upload_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = {k: getattr(job, k) for k in FIELDS}
    data.update(pid=os.getpid(), at=time.time(), error=lines)
    part = path.with_suffix(f".{os.getpid()}.part")
    part.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(part, path)


def read(root: Path, upload_id: str, keep_seconds: float) -> dict[str, Any] | None:
    """An import's state written by another worker: None when there is none, when it is older
    than ``keep_seconds``, or when it never finished and its worker is gone (a restart)."""
    path = _path(root, upload_id)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if time.time() - float(data.get("at", 0)) > keep_seconds:
        path.unlink(missing_ok=True)
        return None
    if not data.get("finished") and not _alive(int(data.get("pid", 0))):
        return None
    return data


def running_elsewhere(root: Path, upload_id: str, keep_seconds: float) -> bool:
    """Whether another live worker is importing the upload now."""
    data = read(root, upload_id, keep_seconds)
    return data is not None and not data.get("finished") and data.get("pid") != os.getpid()


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # (alive, another user's: not ours, but not gone)
        return True
    return True
