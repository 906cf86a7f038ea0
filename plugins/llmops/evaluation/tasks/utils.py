"""Per-item scores for the llmops lm-eval tasks (referenced from the task YAMLs with ``!function``).

Every metric is per item, so the gate can pair candidate and champion item by item. Text metrics
share one normalisation (lowercase, punctuation dropped, whitespace split), so exact match, token
F1 and ROUGE-L disagree only in how they credit partial overlap.
"""

from __future__ import annotations

import re
from collections import Counter

from rouge_score import rouge_scorer

_PUNCT = re.compile(r"[^\w\s]")


def tokens(text: str) -> list[str]:
    return _PUNCT.sub(" ", text.lower()).split()


def exact_match(prediction: str, reference: str) -> float:
    return float(tokens(prediction) == tokens(reference))


def _f_measure(overlap: int, predicted: int, expected: int) -> float:
    if predicted == 0 or expected == 0:
        return float(predicted == expected)
    if overlap == 0:
        return 0.0
    precision, recall = overlap / predicted, overlap / expected
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style F1 over the bag of normalised tokens."""
    pred, ref = tokens(prediction), tokens(reference)
    overlap = sum((Counter(pred) & Counter(ref)).values())
    return _f_measure(overlap, len(pred), len(ref))


class _SharedTokenizer:
    """rouge_score's tokenizer interface over this module's normalisation (its default one differs)."""

    @staticmethod
    def tokenize(text: str) -> list[str]:
        return tokens(text)


_ROUGE_L = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_SharedTokenizer())


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (rouge_score's LCS) over the normalised tokens; two empty texts agree fully."""
    if not tokens(prediction) and not tokens(reference):
        return 1.0
    return _ROUGE_L.score(reference, prediction)["rougeL"].fmeasure


def score_generation(doc: dict, results: list[str]) -> dict[str, float]:
    prediction, reference = results[0], doc["output"]
    return {
        "exact_match": exact_match(prediction, reference),
        "f1": token_f1(prediction, reference),
        "rouge_l": rouge_l(prediction, reference),
    }


def score_loglikelihood(doc: dict, results: list[tuple[float, bool]]) -> dict[str, float]:
    """Negative log-likelihood per answer token; ``answer_tokens`` is counted when the prompt is rendered."""
    loglikelihood, _ = results[0]
    return {"nll": -loglikelihood / doc["answer_tokens"]}
