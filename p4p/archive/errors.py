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
    errno.EISDIR: "是文件夹，不是文件",
    errno.ELOOP: "是符号链接或链接层数过多（归档中不应有符号链接）",
    errno.ENAMETOOLONG: "路径过长",
    errno.EIO: "读写错误（磁盘或网络存储故障）",
    errno.EXDEV: "不在同一个文件系统上",
    errno.EBUSY: "正被占用",
    errno.ENOTEMPTY: "文件夹不是空的",
    errno.EMFILE: "打开的文件过多",
    errno.ETXTBSY: "正被占用",
    errno.ESTALE: "网络文件句柄已失效（网络存储故障）",
}


def os_reason(e: OSError) -> str:
    """An operating-system error for people: the cause in Chinese and the path (an error not
    named here keeps the system's own words, after a Chinese lead)."""
    own = not e.errno  # raised by p4p itself with its own (Chinese) words
    cause = (e.strerror or str(e)) if own else (_REASONS.get(e.errno or 0) or f"操作系统报错：{e.strerror or e}")
    return f"{cause}（{e.filename}）" if e.filename else cause
