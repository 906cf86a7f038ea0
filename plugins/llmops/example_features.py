"""Per-example features a training job selects on, computed from gold SFT rows (pyarrow, no Spark).

One definition for both writers: the featurize Spark job runs :func:`compute` in ``mapInArrow``, and tests
call it directly. The features say what an example is (source, language, size), how good it looks (a
quality score and the checks it failed), whether its composed text trips an injection rule (gold excludes
flagged silver records, but a ticket's context comes from another table), which exact-duplicate cluster
it is in, and when it arrived (``event_timestamp``: Feast's point-in-time key). Nothing here depends on a
tokenizer, so the features mean the same for any base model.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.compute as pc

from llmops.screening.injection import flag_injection
from llmops.screening.langid import LanguagePolicy, detect_language

GOLD_COLUMNS = ["example_id", "created_at", "source", "instruction", "input", "output", "split"]
SCHEMA = pa.schema(
    [
        pa.field("example_id", pa.string(), False),
        pa.field("event_timestamp", pa.timestamp("us", "UTC"), False),  # the gold row's created_at
        pa.field("source", pa.string(), False),
        pa.field("language", pa.string(), False),  # ISO 639-1 of question + answer, or "unknown"
        pa.field("n_chars", pa.int64(), False),  # question + context + answer
        pa.field("question_chars", pa.int64(), False),
        pa.field("answer_chars", pa.int64(), False),
        pa.field("quality_score", pa.float64(), False),  # 0..1, see quality()
        pa.field("quality_flags", pa.list_(pa.field("item", pa.string(), False)), False),
        pa.field("injection_flag", pa.bool_(), False),
        pa.field("injection_rule", pa.string(), True),
        pa.field("dedup_cluster", pa.string(), False),  # same value = same question and answer, normalised
        pa.field("split", pa.string(), False),
    ]
)
_PLACEHOLDER = r"\[[A-Z_]+\]"  # masked personal data
SHORT_ANSWER_WORDS = 5  # an answer below this many words is flagged short


def _words(text: pa.Array) -> pa.Array:
    return pc.list_value_length(pc.split_pattern_regex(pc.utf8_trim_whitespace(text), r"\s+"))


def quality(answer: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(score, flags) per answer. The score is the share of the answer's words that are real words rather
    than masked personal data, scaled down linearly below ``SHORT_ANSWER_WORDS`` words; flags name what
    lowered it (``short_answer``, ``masked_heavy`` when over a fifth of its words are placeholders)."""
    words = _words(answer).to_numpy(zero_copy_only=False)
    masked = pc.count_substring_regex(answer, _PLACEHOLDER).to_numpy(zero_copy_only=False)
    scores, flags = [], []
    for n, m in zip(words, masked, strict=True):
        share = (n - min(m, n)) / n if n else 0.0
        scores.append(round(share * min(1.0, n / SHORT_ANSWER_WORDS), 4))
        flags.append([f for f, hit in (("short_answer", n < SHORT_ANSWER_WORDS), ("masked_heavy", m * 5 > n)) if hit])
    return pa.array(scores, pa.float64()), pa.array(flags, SCHEMA.field("quality_flags").type)


def dedup_cluster(question: pa.Array, answer: pa.Array) -> pa.Array:
    """sha256 (16 hex) of the lower-cased, whitespace-collapsed question and answer."""
    text = pc.utf8_lower(pc.binary_join_element_wise(question, answer, "\n"))
    text = pc.replace_substring_regex(pc.utf8_trim_whitespace(text), r"\s+", " ")
    return pa.array([hashlib.sha256(t.encode()).hexdigest()[:16] for t in text.to_pylist()], pa.string())


def compute(gold: pa.Table | pa.RecordBatch, policy: LanguagePolicy | None = None) -> pa.Table:
    """Gold rows (``GOLD_COLUMNS``) -> one feature row each, in ``SCHEMA``."""
    question, answer = (pc.fill_null(gold.column(c), "") for c in ("instruction", "output"))
    context = pc.fill_null(gold.column("input"), "")
    composed = pc.binary_join_element_wise(question, context, answer, "\n")
    flagged, rule = flag_injection(composed)
    score, flags = quality(answer)
    columns = {
        "example_id": gold.column("example_id"),
        "event_timestamp": pc.cast(gold.column("created_at"), pa.timestamp("us", "UTC")),
        "source": gold.column("source"),
        "language": detect_language(pc.binary_join_element_wise(question, answer, "\n"), None, policy),
        "n_chars": pc.cast(pc.utf8_length(composed), pa.int64()),
        "question_chars": pc.cast(pc.utf8_length(question), pa.int64()),
        "answer_chars": pc.cast(pc.utf8_length(answer), pa.int64()),
        "quality_score": score,
        "quality_flags": flags,
        "injection_flag": flagged,
        "injection_rule": rule,
        "dedup_cluster": dedup_cluster(question, answer),
        "split": gold.column("split"),
    }
    return pa.Table.from_arrays(list(columns.values()), schema=SCHEMA)
