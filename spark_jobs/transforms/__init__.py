"""Pure, vectorised text transforms of the clean job (bronze -> silver).

Each function takes pyarrow arrays and returns pyarrow arrays, so the clean job can call it from
Spark's ``mapInArrow`` on whole record batches: ``text`` (HTML to text, normalisation),
personal-data masking (``llmops.masking.pii``), language detection and prompt-injection
flags (``llmops.screening``).
"""

from __future__ import annotations

# the Arrow helpers live beside the masking (llmops.masking), which the gateway's inference log shares
from llmops.masking import as_string_array, map_where

__all__ = ["as_string_array", "map_where"]
