"""Personal-data masking (``pii``, ``phones``): pure pyarrow, no Spark, so the clean job (bronze -> silver) and the
gateway's inference log mask with one implementation. Arrow helpers shared with the clean job's transforms."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc


def as_string_array(arr: pa.Array | pa.ChunkedArray) -> pa.StringArray:
    """One contiguous ``string`` array (Spark hands over ``string`` or ``large_string`` chunks)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == pa.string() else arr.cast(pa.string())


def map_where(arr: pa.Array, mask: pa.BooleanArray, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """Apply ``fn`` only to the rows where ``mask`` is true and scatter the results back.

    Most rows of real text need no change; skipping them is what makes the regex chains cheap.
    """
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return arr
    return pc.replace_with_mask(arr, mask, fn(arr.filter(mask)))
