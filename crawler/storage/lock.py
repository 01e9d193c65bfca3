"""One crawl per database at a time: an exclusive flock on `<db>.lock`.

The kernel drops a flock when its process ends, however it ends (kill -9 included), so a
crashed run never leaves a lock that blocks the next one; the file itself may stay, and only
says who held it last.
"""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from crawler.article.dates import utc_now
from crawler.storage.store import StoreError


class Locked(Exception):
    """Another process is crawling into the same database."""


@contextmanager
def exclusive(db: str | Path):
    path = Path(f"{db}.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot use database {path.with_suffix('')}: cannot create its lock file: "
                         f"{exc.strerror}: {exc.filename}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown process"
        os.close(fd)
        raise Locked(f"another crawl is writing {db} ({holder}); this one does not start") from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {utc_now()}\n".encode())
        yield
    finally:
        os.close(fd)
