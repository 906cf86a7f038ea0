"""What the gateway accepts: typed request models for /v1/completions and /v1/chat/completions and the limits.

Every field that reaches the backend is validated here, so a malformed value (``temperature: "hot"``,
``n: true``, a message without ``role``) is the caller's 400, not the backend's exception and the
gateway's 502. Unknown fields are dropped, never forwarded: ``transformers serve`` accepts a
``generation_config`` field that would override every limit. Like the gateway, this module imports only
the standard library and what the vLLM image ships (pydantic), so the sidecar runs it as it is.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

# JSON may spell one character as a 6-byte \uXXXX escape; the rest is room for the other fields.
BODY_BYTES_PER_CHAR = 6
BODY_OVERHEAD_BYTES = 64 * 1024
# OpenAI request bodies nest 4 deep at most (messages[].content[].text); the C parser recurses per level
# and a body nested ~1,000 deep raised RecursionError, so depth is checked on the raw bytes first.
MAX_JSON_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


class Refused(Exception):
    """A request the gateway answers itself with ``status`` and an OpenAI-style error body."""

    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw``, ignoring brackets inside strings."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def parse_body(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> dict:
    """The JSON object in ``raw``; :class:`Refused` (400) for invalid JSON, another type, or too deep a nesting."""
    if json_depth(raw) > max_depth:
        raise Refused(400, f"request body nests deeper than {max_depth} levels", "invalid_json")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise Refused(400, "request body is not valid JSON", "invalid_json") from None
    if not isinstance(body, dict):
        raise Refused(400, "request body must be a JSON object", "invalid_json")
    return body


Temperature = Annotated[float, Field(strict=True, ge=0, le=2)]
TopP = Annotated[float, Field(strict=True, gt=0, le=1)]
Penalty = Annotated[float, Field(strict=True, ge=-2, le=2)]
PositiveInt = Annotated[StrictInt, Field(ge=1)]
Stop = StrictStr | Annotated[list[StrictStr], Field(max_length=4)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    model: StrictStr | None = None
    max_tokens: PositiveInt | None = None
    max_completion_tokens: PositiveInt | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    stop: Stop | None = None
    seed: StrictInt | None = None
    frequency_penalty: Penalty | None = None
    presence_penalty: Penalty | None = None
    n: StrictInt = 1
    stream: StrictBool = False
    user: Annotated[StrictStr, Field(max_length=256)] | None = None


class CompletionRequest(_Request):
    prompt: StrictStr | Annotated[list[StrictStr], Field(min_length=1)]
    echo: StrictBool | None = None
    logprobs: Annotated[StrictInt, Field(ge=0, le=5)] | None = None

    def prompt_chars(self) -> int:
        return sum(map(len, [self.prompt] if isinstance(self.prompt, str) else self.prompt))


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["text"]
    text: StrictStr


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    role: Literal["system", "developer", "user", "assistant"]
    content: StrictStr | Annotated[list[TextPart], Field(min_length=1)]

    def chars(self) -> int:
        return len(self.content) if isinstance(self.content, str) else sum(len(p.text) for p in self.content)


class ChatRequest(_Request):
    messages: Annotated[list[Message], Field(min_length=1)]
    logprobs: StrictBool | None = None
    top_logprobs: Annotated[StrictInt, Field(ge=0, le=20)] | None = None

    def prompt_chars(self) -> int:
        return sum(m.chars() for m in self.messages)


REQUEST_MODELS: dict[str, type[_Request]] = {"completions": CompletionRequest, "chat/completions": ChatRequest}


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(
        f"`{'.'.join(str(p) for p in err['loc']) or 'body'}`: {err['msg']}" for err in exc.errors(include_url=False)
    )


def apply_limits(route: str, body: dict, *, max_tokens: int, max_prompt_chars: int) -> dict:
    """The body to forward for an accepted request; raises :class:`Refused` for one that breaks a limit.

    A token count above the cap is refused, not clamped (the caller learns it will not get more instead
    of reading a truncated answer as the model's choice); a request without one gets the cap. On
    /v1/completions ``max_completion_tokens`` is accepted as the same limit and sent as ``max_tokens``.
    """
    try:
        request = REQUEST_MODELS[route].model_validate(body)
    except ValidationError as exc:
        raise Refused(400, _validation_message(exc), "invalid_request") from None
    if request.n != 1:
        raise Refused(400, f"only n=1 is supported by this endpoint, got {request.n}", "n_unsupported")
    asked = {k: v for k in ("max_tokens", "max_completion_tokens") if (v := getattr(request, k)) is not None}
    for key, value in asked.items():
        if value > max_tokens:
            raise Refused(400, f"`{key}`={value} exceeds this server's cap of {max_tokens} tokens",
                          "max_tokens_exceeded")  # fmt: skip
    if len(set(asked.values())) > 1:
        raise Refused(400, "`max_tokens` and `max_completion_tokens` disagree; send one", "invalid_max_tokens")
    chars = request.prompt_chars()
    if chars == 0:
        raise Refused(400, "the prompt is empty", "empty_prompt")
    if chars > max_prompt_chars:
        raise Refused(413, f"prompt has {chars} characters; this server accepts at most {max_prompt_chars}",
                      "prompt_too_long")  # fmt: skip
    forwarded = request.model_dump(exclude_none=True, exclude={"n", "stream", "max_tokens", "max_completion_tokens"})
    if request.stream:
        forwarded["stream"] = True
    key = "max_completion_tokens" if route == "chat/completions" and "max_completion_tokens" in asked else "max_tokens"
    forwarded[key] = next(iter(asked.values()), max_tokens)
    return forwarded
