"""Prompt-injection and data-poisoning flags over whole Arrow arrays.

``INJECTION_RULES`` is a short list of named, case-insensitive RE2 patterns (valid in Java too), so
reports can count hits per rule. The rules aim at instructions addressed to a model, not at ordinary
customer language: "I ignored the previous email" or "please disregard my earlier message" do not
match, because an instruction-override rule needs an instruction noun (instructions, prompt, rules...).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spark_jobs.transforms import as_string_array

_OVERRIDE_VERB = r"(?:ignore|disregard|forget|override|bypass|skip)"
_INSTRUCTION_NOUN = r"(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|commands)"

INJECTION_RULES: dict[str, str] = {
    # ignore all previous instructions / disregard the above prompt / forget your rules / override the system prompt
    "ignore_instructions": rf"(?i)\b{_OVERRIDE_VERB}\s+(?:(?:all|any|the|your|my|of|these|those|every)\s+)*"
    rf"(?:(?:previous|prior|above|earlier|preceding|former|original|initial|system|safety|existing)\s+)*"
    rf"{_INSTRUCTION_NOUN}\b|\bnew\s+(?:system\s+)?instructions?\s*:",
    # reveal / print / repeat your system prompt, show the hidden instructions
    "reveal_system_prompt": r"(?i)\b(?:reveal|print|show|display|output|repeat|leak|dump|share|tell\s+me|what\s+(?:is|are))"
    r"\b[^.?!\n]{0,40}?\b(?:system|initial|hidden|original|secret|developer)\s+(?:prompt|instructions?|message)s?\b",
    # SYSTEM: you are now ..., you are now DAN / an unrestricted AI, pretend to be ..., act as an unfiltered ...
    "role_override": r"(?i)\bsystem\s*:\s*you\s+are\b|\byou\s+are\s+now\s+(?:DAN\b|in\s+\w+\s+mode|free\s+from"
    r"|no\s+longer\s+bound|an?\s+(?:unrestricted|unfiltered|uncensored|jailbroken|evil|different|new)\b)"
    r"|\bpretend\s+(?:to\s+be|you\s+are)\s+(?:an?\s+)?(?:AI|assistant|model|chatbot|DAN|system)\b"
    r"|\bact\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|evil)\b",
    # DAN-style jailbreak personas
    "jailbreak_persona": r"(?i)\bdo\s+anything\s+now\b|\bjailbr(?:eak|oken)\b|\bDAN\s+mode\b"
    r"|\b(?:enable|enter|activate)\s+(?:developer|god|jailbreak)\s+mode\b",
    # chat-template control tokens smuggled into text
    "chat_template_tokens": r"(?i)<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|begin_of_text"
    r"|start_header_id|end_header_id)\s*\|>|\[/?INST\]|<</?SYS>>",
    # explicit injection markers
    "injection_marker": r"(?i)\b(?:BEGIN|END)\s+(?:PROMPT\s+)?INJECTION\b",
    # poisoning: instructions to always give a fixed answer, or to answer a trigger in a fixed way
    "fixed_answer": r"(?i)(?:^|[.!?:;,]\s*|\b(?:and|must|will|should|to|now|on)\s+)always\s+(?:answer|reply|respond|say)"
    r"\s+(?:with\s+)?(?:that\b|[\"'“])|\bwhen(?:ever)?\s+(?:you\s+are\s+|someone\s+|a\s+user\s+|anyone\s+)?"
    r"ask(?:ed|s)\b[^.\n]{0,80}?\b(?:always\s+)?(?:say|answer|reply|respond)\s+(?:with\s+)?(?:that\b|[\"'“])"
    r"|\bregardless\s+of\s+(?:the\s+)?(?:question|input|what\s+(?:is|was)\s+asked)\b",
    # a long base64-looking blob (an encoded payload), or an instruction to decode and follow one
    "encoded_payload": r"(?i)[a-z0-9+/]{100,}={0,2}|\bdecode\b[^.\n]{0,40}?\b(?:and\s+)?(?:follow|execute|run|obey)\b",
}

# One scan over every row finds the rows any rule can match; the rules then run on those rows only.
_ANY_RULE = "|".join(f"(?:{pattern})" for pattern in INJECTION_RULES.values())


def flag_injection(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.BooleanArray, pa.StringArray]:
    """Per row: whether any rule matched, and the name of the first rule (in ``INJECTION_RULES`` order)
    that did (null when none). Null text is not flagged."""
    arr = as_string_array(arr)
    candidates = pc.fill_null(pc.match_substring_regex(arr, _ANY_RULE), False)
    rule = pa.nulls(len(arr), pa.string())
    if pc.any(candidates).as_py():
        rule = pc.replace_with_mask(rule, candidates, _first_rule(arr.filter(candidates)))
    return pc.is_valid(rule), rule


def _first_rule(rows: pa.StringArray) -> pa.StringArray:
    names = np.full(len(rows), None, dtype=object)
    unnamed = np.ones(len(rows), dtype=bool)
    for name, pattern in INJECTION_RULES.items():
        hit = pc.fill_null(pc.match_substring_regex(rows, pattern), False).to_numpy(zero_copy_only=False)
        names[hit & unnamed] = name
        unnamed &= ~hit
    return pa.array(names, pa.string())
