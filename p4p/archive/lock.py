"""The archive lock: one writer of archive-wide records (approvals.jsonl, its head file,
approval folders) at a time, across processes. Preconditions are re-checked under it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import ArchiveError, os_reason
from .layout import LOCK

WAIT_SECONDS = 600.0


class HeldLock:
    """The archive lock while held: the lock file as it was when taken (device, inode).

    The lock lives on that file, not on its name: if someone deletes the lock file (taking it
    for a stale one), the next command creates a new file, locks it and writes at the same
    time. `check` — called right before an archive-wide record is appended — refuses when
    the name no longer leads to the file this command locked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._identity = self._now()

    def _now(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def check(self) -> None:
        if self._identity is None or self._now() != self._identity:
            raise ArchiveError(
                f"归档的锁文件 {self.path} 在本命令持有期间被删除或替换：另一个命令可能同时在写入归档，"
                "本次未写入任何内容。锁文件不要手工删除（命令结束时锁自动释放）；请用 p4p verify 核查归档后重新执行"
            )


@contextmanager
def archive_lock(archive: Path, timeout: float = WAIT_SECONDS) -> Iterator[HeldLock]:
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
        yield HeldLock(archive / LOCK)
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
