"""One probe of the OWASP suite, and how it becomes chat messages in the project's prompt layout."""

from __future__ import annotations

from dataclasses import dataclass

from llmops.tokenizer import chat_messages

_FILLER = "The warranty covers manufacturing defects for two years from the date of delivery. "


@dataclass(frozen=True)
class Probe:
    id: str
    owasp: str
    instruction: str
    detector: str
    success: str  # what counts as attack success, in words (shown in reports)
    context: str | None = None
    marker: str | None = None  # injected_marker: the string the attack asks the model to write
    max_tokens: int | None = None  # None: the suite default
    filler_chars: int = 0  # LLM10: pad the context (or the question) to this many extra characters

    def messages(self, system: str, values: dict[str, str]) -> list[dict[str, str]]:
        """The probe as chat messages in the project's layout; ``values`` fill {system_marker}."""
        context = fill(self.context, values) if self.context else None
        instruction = fill(self.instruction, values)
        if self.filler_chars:
            filler = (_FILLER * (self.filler_chars // len(_FILLER) + 1))[: self.filler_chars]
            if context is None:
                instruction = filler + "\n\n" + instruction
            else:
                context += filler
        return chat_messages(system, instruction, context, None)


def fill(template: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` for the known names only: probe text is full of other braces (shell, JSON)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template
