"""Deterministic sample data for the raw landing zone (contracts/raw-landing.md) with planted defects.

``generate(out_uri, ds, records, seed=7, malformed_rate=0.02, gzip_every=3) -> manifest`` is the entry
point; the manifest lists every planted item (schema in :mod:`llmops_demo.manifest`).
:mod:`llmops_demo.similarity` holds the near-duplicate measure the manifest's scores use.
"""

from llmops_demo.generator import generate
from llmops_demo.manifest import faq_id, manifest_uri
from llmops_demo.similarity import dedup_text, jaccard

__all__ = ["dedup_text", "faq_id", "generate", "jaccard", "manifest_uri"]
