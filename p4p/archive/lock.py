"""The archive lock: one writer of archive-wide records (approvals.jsonl, its head file,
approval folders) at a time, across processes. Preconditions are re-checked under it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import ArchiveError, os_reason
from .layout import LOCK

WAIT_SECONDS = 600.0


@contextmanager
def archive_lock(archive: Path, timeout: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the exclusive lock of the archive (waits for another writer to finish)."""
    lock = FileLock(str(archive / LOCK), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise ArchiveError(
            f"归档正被另一个命令写入，等待 {timeout:.0f} 秒后仍未轮到（锁文件：{archive / LOCK}）"
        ) from None
    except OSError as e:
        raise ArchiveError(f"不能锁定归档（{archive / LOCK}）：{os_reason(e)}") from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def reading_lock(archive: Path) -> Iterator[bool]:
    """For readers: hold the lock when there is one (a consistent view while approvals may be
    appended); never create it (a reader leaves the archive as it was), and read without it on
    a read-only copy. Yields whether the lock is held."""
    if not (archive / LOCK).is_file():
        yield False
        return
    try:
        lock = FileLock(str(archive / LOCK), timeout=WAIT_SECONDS)
        lock.acquire()
    except (OSError, Timeout):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
