"""Times written into the archive: UTC for machines, Beijing time for people."""

from __future__ import annotations

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8))


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def utc_text(t: dt.datetime) -> str:
    """2026-11-23T14:05:00Z"""
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def beijing_text(t: dt.datetime) -> str:
    """2026-11-23 22:05（北京时间）"""
    return f"{t.astimezone(BEIJING):%Y-%m-%d %H:%M}（北京时间）"


def beijing_date(t: dt.datetime) -> str:
    return f"{t.astimezone(BEIJING):%Y-%m-%d}"


def utc_now() -> str:
    return utc_text(now())
