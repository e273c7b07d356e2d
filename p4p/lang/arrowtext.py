"""Text put together column by column in Arrow's string kernels, for the writers of a province's
files (trace.jsonl, ledger.csv): no Python string per line. Everything is `large_string` (64-bit
offsets: a column may hold more than 2 GB of text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TEXT = pa.large_string()
Text: TypeAlias = pa.Array | pa.Scalar


def column(values: Sequence[str]) -> pa.Array:
    return pa.array(values, TEXT)


def lit(text: str) -> pa.Scalar:
    """A piece of text every line shares."""
    return pa.scalar(text, TEXT)


def joined(parts: Sequence[Text], sep: str = "") -> pa.Array:
    """Line by line, the parts (columns or shared pieces) joined with `sep`."""
    out = pc.binary_join_element_wise(*parts, lit(sep))
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def as_bytes(lines: pa.Array) -> bytes:
    """Every value of a text column, one after the other, as UTF-8 bytes (no separator)."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    return lines.buffers()[2].to_pybytes()[int(offsets[0]) : int(offsets[-1])]
