"""Writing a folder into the archive atomically: it is written into a temporary folder inside the
archive (named with host and process id), sealed with its manifest and renamed into place.

Before the rename every file and folder of the temporary folder is flushed to the disk (fsync),
and after it the folders of the rename: a power cut right after a command said "written" cannot
leave a renamed folder with empty or truncated files. A failure, an exception or Ctrl-C removes
only that temporary folder (and an archive folder this command created and left empty). A
killed process leaves its temporary folder behind; the next command that writes to the archive
removes the temporary folders of this host whose process is gone — only folders named by that
scheme, never anything else.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import ArchiveError, os_reason
from .layout import host_name, parse_tmp, tmp_name
from .manifest import hash_files, write_manifest

PAUSE_ENV = "P4P_TEST_PAUSE_BEFORE_COMMIT"


def pid_alive(pid: int) -> bool:
    """Whether a process of this host may still write: one that has exited but not yet been
    waited for (a zombie, e.g. a Dask worker its nanny has just killed) writes nothing more."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:  # Linux: /proc/<pid>/stat is "pid (name) state …", the name may hold spaces or ")"
        return (
            Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()[0] == "Z"
        )
    except (OSError, IndexError):  # no /proc (not Linux), or gone meanwhile
        return False


def unwritable(archive: Path) -> str | None:
    """Why no run folder could go into `archive`, said before anything is computed: the
    nearest existing folder on its path (where it would be made) is a file, or not writable."""
    place = archive
    while not place.exists() and not place.is_symlink() and place.parent != place:
        place = place.parent
    if not place.is_dir():
        return f"{place} 不是文件夹"
    if not os.access(place, os.W_OK | os.X_OK):
        return f"没有在 {place} 中写入的权限（或其所在的文件系统只读）"
    return None


PROC_STAT_SLACK = 2.0  # seconds: /proc/stat gives the boot time to the second


def process_started(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), from Linux's /proc; None elsewhere
    or when it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22 (starttime), after "pid (comm)"
        boot = next(int(x.split()[1]) for x in Path("/proc/stat").read_text().splitlines() if x.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def writer_alive(pid: int, folder: Path) -> bool:
    """Whether the process named in a temporary folder's name may still be writing it: it
    exists, and did not start after the folder last changed (a process id is reused — after a
    reboot the id of a killed run is soon another program's, and its folder was kept forever)."""
    if not pid_alive(pid):
        return False
    started = process_started(pid)
    try:
        changed = folder.stat().st_ctime
    except OSError:
        return True
    return started is None or started <= changed + PROC_STAT_SLACK


def sweep_temporaries(archive: Path) -> list[Path]:
    """Remove the temporary folders of this host whose process is gone. Returns what went."""
    if not archive.is_dir():
        return []
    gone = []
    for p in sorted(archive.iterdir()):
        t = parse_tmp(p.name)
        if t and t.host == host_name() and p.is_dir() and not p.is_symlink() and not writer_alive(t.pid, p):
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    return gone


def flush_tree(folder: Path) -> None:
    """fsync every file under `folder`, then every folder, deepest first (a file's data and
    its name in its folder both reach the disk)."""
    dirs = []
    for dirpath, _dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirs.append(here)
        for name in filenames:
            p = here / name
            if p.is_symlink():
                continue
            fd = os.open(p, os.O_RDONLY)
            try:
                _fsync(fd)
            finally:
                os.close(fd)
    for d in reversed(dirs):
        fsync_dir(d)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (names made or renamed in it); a file system that cannot
    (some network mounts) is passed over: the files themselves are flushed."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        _fsync(fd)
    except OSError:  # a folder a file system will not flush: its files were
        pass
    finally:
        os.close(fd)


def _fsync(fd: int) -> None:
    """fsync, except where the file system cannot (some network and FUSE mounts say EINVAL or
    ENOTSUP: nothing to flush there); a real failure (EIO, ENOSPC) is raised."""
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise


def _make_dirs(path: Path) -> list[Path]:
    """mkdir -p; returns the folders it created, deepest last."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    made = []
    for d in reversed(missing):
        try:
            d.mkdir()
            made.append(d)
        except FileExistsError:  # another process made it meanwhile: not ours
            pass
    return made


def _remove_if_empty(folders: list[Path]) -> None:
    """Remove folders this command created, deepest first, while they are empty (another
    process may have started writing into one meanwhile: then it stays)."""
    for d in reversed(folders):
        try:
            d.rmdir()
        except OSError:
            return


def _pause_for_tests(path: Path) -> None:
    """Test seam (harmless in production, where the variable is unset): with
    P4P_TEST_PAUSE_BEFORE_COMMIT=<file>, write the staging folder's path into <file> and wait,
    so a test can send SIGINT or SIGKILL at this point."""
    flag = os.environ.get(PAUSE_ENV)
    if flag:
        Path(flag).write_text(str(path), encoding="utf-8")
        time.sleep(120)


class Staging:
    """A temporary folder inside the archive that becomes <final> when committed."""

    def __init__(self, archive: Path, period: str) -> None:
        self.archive = archive
        self.committed: Path | None = None
        self.made = _make_dirs(archive)
        try:
            self.path = self._mkdir(period)
        except BaseException:
            _remove_if_empty(self.made)
            raise

    def _mkdir(self, period: str) -> Path:
        for _attempt in range(5):
            path = self.archive / tmp_name(period)
            try:
                path.mkdir()
                return path
            except FileNotFoundError:  # a concurrent failing first run removed the empty archive
                self.made += _make_dirs(self.archive)
        raise ArchiveError(f"不能在归档中建立临时目录：{self.archive}")

    def write(self, relative: str, data: bytes) -> None:
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise ArchiveError(f"不能写到运行目录之外：{relative}")
        p = self.path.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)

    def commit(self, final: Path) -> Path:
        """Flush to disk, rename into place (atomic: same file system), flush the rename.
        Refuses to replace anything."""
        flush_tree(self.path)
        _pause_for_tests(self.path)
        made = _make_dirs(final.parent)
        for _attempt in range(5):
            if final.exists():
                _remove_if_empty(made)
                raise ArchiveError(f"目标目录已存在，未覆盖：{final}")
            try:
                os.rename(self.path, final)
                break
            except FileNotFoundError:  # the parent went away under us: make it again
                made += _make_dirs(final.parent)
            except OSError as e:
                _remove_if_empty(made)
                raise ArchiveError(f"不能把临时目录移到 {final}：{os_reason(e)}") from None
        else:
            raise ArchiveError(f"不能把临时目录移到 {final}")
        self.committed = final
        for d in dict.fromkeys((final.parent, self.path.parent, *(m.parent for m in (*self.made, *made)))):
            fsync_dir(d)  # the new name, the old name's removal, and any folder made for them
        return final

    def discard(self) -> None:
        if self.committed is None:
            shutil.rmtree(self.path, ignore_errors=True)
            if self.path.exists():  # a worker was still writing: once more
                shutil.rmtree(self.path, ignore_errors=True)
        _remove_if_empty(self.made)


@contextmanager
def staging(archive: Path, period: str) -> Iterator[Staging]:
    """A Staging that is removed again unless committed (on any exception, Ctrl-C included)."""
    try:
        sweep_temporaries(archive)
        st = Staging(archive, period)
    except OSError as e:
        raise ArchiveError(f"不能在归档 {archive} 中建立临时目录：{os_reason(e)}") from e
    try:
        yield st
    except OSError as e:  # disk full, no permission…: the environment, said in Chinese (exit 1)
        raise ArchiveError(f"写入归档 {archive} 失败，未写入任何内容：{os_reason(e)}") from e
    finally:
        if st.committed is None:
            st.discard()


class StagedRun:
    """A run folder being written: app writes the files (and renders PDFs into `path`), then
    `seal` adds the manifest (every file's SHA-256 plus the metadata) and renames it into
    <archive>/<period>/<run_id>/."""

    def __init__(self, st: Staging, period: str, run_id: str) -> None:
        self._st = st
        self.path = st.path
        self.final = st.archive / period / run_id

    def write_all(self, files: dict[str, bytes]) -> None:
        for relative, data in files.items():
            self._st.write(relative, data)

    def seal(self, manifest: dict[str, Any]) -> Path:
        manifest["files"] = hash_files(self.path)
        write_manifest(self.path, manifest)
        return self._st.commit(self.final)


@contextmanager
def staged_run(archive: Path, period: str, run_id: str) -> Iterator[StagedRun]:
    with staging(archive, period) as st:
        yield StagedRun(st, period, run_id)
