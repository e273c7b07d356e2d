"""The verification block of a document: the run id and hashes as text and as a QR code an
auditor scans.

The QR code is a PNG of one pixel per module, inlined as a data: URL and drawn without
interpolation (`image-rendering: pixelated`): sharp squares at any size, like a vector. An inline
SVG was measured first: weasyprint parses its path (some 600 commands) in Python for every
statement, 30 ms of the ~160 ms a statement takes; the PNG costs under 1 ms. The mask pattern is
fixed: choosing the best of the eight (segno's default, in pure Python) took 8 ms per statement;
any mask gives a valid code that scanners read."""

from __future__ import annotations

import base64
import io

import segno


def verify_text(period: str, run_id: str, ledger_sha256: str, inst_id: str | None, chain_head: str | None) -> str:
    """What the QR code holds: enough to find the run in the archive and check it."""
    lines = [f"p4p {period}/{run_id}", f"ledger sha256 {ledger_sha256}"]
    if inst_id:
        lines.append(f"inst {inst_id}")
    if chain_head:
        lines.append(f"chain {chain_head}")
    return "\n".join(lines)


def qr_data_url(text: str) -> str:
    """A data: URL of the QR code of `text` as a PNG (its size is set by the stylesheet)."""
    buf = io.BytesIO()
    segno.make(text, error="m", micro=False, mask=0).save(buf, kind="png", scale=1, border=2)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
