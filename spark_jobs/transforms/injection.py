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
_QUOTE_OR_THAT = r"(?:that\b|[\"'“])"

# rule name -> alternatives; every rule is case-insensitive
_RULES: dict[str, list[str]] = {
    # ignore all previous instructions / disregard the above prompt / forget your rules / new instructions:
    "ignore_instructions": [
        rf"\b{_OVERRIDE_VERB}\s+(?:(?:all|any|the|your|my|of|these|those|every)\s+)*"
        r"(?:(?:previous|prior|above|earlier|preceding|former|original|initial|system|safety|existing)\s+)*"
        rf"{_INSTRUCTION_NOUN}\b",
        r"\bnew\s+(?:system\s+)?instructions?\s*:",
    ],
    # reveal / print / repeat your system prompt, what is your hidden prompt
    "reveal_system_prompt": [
        r"\b(?:reveal|print|show|display|output|repeat|leak|dump|share|tell\s+me|what\s+(?:is|are))\b"
        r"[^.?!\n]{0,40}?\b(?:system|initial|hidden|original|secret|developer)\s+(?:prompt|instructions?|message)s?\b",
        # a customer has no reason to ask about "your system prompt" at all: what were you told in it?
        r"\byour\s+(?:system|initial|hidden|original|secret|developer)\s+(?:prompt|instructions)\b",
    ],
    # SYSTEM: you are now ..., you are now DAN, pretend you are an AI, act as an unfiltered ...
    "role_override": [
        r"\bsystem\s*:\s*you\s+are\b",
        r"\b(?:new|updated|revised)\s+system\s+(?:message|prompt)\s*:",
        r"\byou\s+are\s+now\s+(?:DAN\b|in\s+\w+\s+mode|free\s+from|no\s+longer\s+bound"
        r"|an?\s+(?:unrestricted|unfiltered|uncensored|jailbroken|evil|different|new)\b)",
        r"\bpretend\s+(?:to\s+be|you\s+are)\s+(?:an?\s+)?(?:AI|assistant|model|chatbot|DAN|system)\b",
        r"\bact\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|evil)\b",
        # the "grandma exploit": a persona who used to recite secrets
        r"\bpretend\s+(?:to\s+be|you\s+are|you're)\s+my\s+(?:\w+\s+){0,2}who\s+(?:used\s+to|would)\b",
    ],
    # DAN-style jailbreak personas
    "jailbreak_persona": [
        r"\bdo\s+anything\s+now\b",
        r"\bjailbr(?:eak|oken)\b",
        r"\bDAN\s+mode\b",
        r"\b(?:enable|enter|activate)\s+(?:developer|god|jailbreak)\s+mode\b",
    ],
    # chat-template control tokens smuggled into text
    "chat_template_tokens": [
        r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|begin_of_text|start_header_id"
        r"|end_header_id)\s*\|>",
        r"\[/?INST\]",
        r"<</?SYS>>",
    ],
    # explicit injection markers
    "injection_marker": [r"\b(?:BEGIN|END)\s+(?:PROMPT\s+)?INJECTION\b"],
    # poisoning: always give a fixed answer, answer a trigger a fixed way, answer regardless of the question
    "fixed_answer": [
        r"(?:^|[.!?:;,]\s*|\b(?:and|must|will|should|to|now|on)\s+)always\s+(?:answer|reply|respond|say)\s+"
        rf"(?:with\s+)?{_QUOTE_OR_THAT}",
        r"\bwhen(?:ever)?\s+(?:you\s+are\s+|someone\s+|a\s+user\s+|anyone\s+)?ask(?:ed|s)\b[^.\n]{0,80}?"
        rf"\b(?:always\s+)?(?:say|answer|reply|respond)\s+(?:with\s+)?{_QUOTE_OR_THAT}",
        r"\bregardless\s+of\s+(?:the\s+)?(?:question|input|what\s+(?:is|was)\s+asked)\b",
        # text addressed to a model that reads it later: "Note to the AI reading this: ..."
        r"\b(?:note|message|instruction)s?\s+(?:to|for)\s+(?:the|any)\s+(?:AI|LLM|assistant|model|bot)\b",
    ],
    # a long base64-looking blob (an encoded payload), or an instruction to decode one and follow it
    "encoded_payload": [
        r"[a-z0-9+/]{100,}={0,2}",
        r"\bdecode\b[^.\n]{0,40}?\b(?:and\s+)?(?:follow|execute|run|obey)\b",
    ],
}
INJECTION_RULES: dict[str, str] = {name: "(?i)" + "|".join(alts) for name, alts in _RULES.items()}
"""Rule name -> case-insensitive regex (RE2 and Java syntax), in the order ``flag_injection`` reports them."""

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
