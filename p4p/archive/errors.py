"""What archive operations raise: a Chinese message for people, an exit code for the CLI."""

from __future__ import annotations

import errno


class ArchiveError(Exception):
    """A refused or impossible archive operation (exit 1)."""


class MissingHistory(ArchiveError):
    """A Q4 run without its approved Q1–Q3: rejected input (exit 2)."""


class NoArchive(ArchiveError):
    """There is no archive at the path given (exit 1)."""


_REASONS = {
    errno.ENOSPC: "磁盘已满",
    errno.EDQUOT: "超出磁盘配额",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EROFS: "只读文件系统",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EEXIST: "已存在",
    errno.ENOENT: "不存在",
    errno.EIO: "输入/输出错误（磁盘或网络驱动器故障）",
    errno.EISDIR: "是文件夹，不是文件",
}


def os_reason(e: OSError) -> str:
    """An operating-system error for people: the cause in Chinese and the path."""
    cause = _REASONS.get(e.errno or 0, e.strerror or str(e))
    return f"{cause}（{e.filename}）" if e.filename else cause
