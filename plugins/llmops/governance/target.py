"""The model under test, reached only through an OpenAI-compatible chat endpoint.

The runner depends on the small :class:`ChatTarget` protocol, not on an HTTP library, so any client that
can send chat messages fits. :class:`ClientChatTarget` is the implementation over the project's one HTTP
client, :class:`~llmops.serving.client.OpenAIClient`, for a ``base_url`` such as ``http://127.0.0.1:8000/v1``
(the OpenAI SDK's convention: the URL up to and including ``/v1``).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any, NamedTuple, Protocol

from llmops.serving.client import OpenAIClient, ServingError, ServingTimeout


class ChatReply(NamedTuple):
    """One chat completion exchange, as the detectors see it."""

    text: str  # the assistant message; for a non-200 status the error body (truncated)
    status_code: int  # HTTP status; 0 when no answer arrived within the client timeout
    usage: dict[str, Any]  # the response's usage block (prompt_tokens, completion_tokens...); {} if absent
    latency_s: float


class ChatTarget(Protocol):
    """What the probe runner needs from a model endpoint.

    ``chat`` sends one chat completion request (``messages`` as OpenAI ``{"role", "content"}`` dicts,
    ``max_tokens`` passed through unchanged, even when absurdly large: LLM10 probes rely on it) and returns
    ``(text, status_code, usage, latency_s)`` as a :class:`ChatReply` or a plain 4-tuple. A timeout is a
    reply with status 0, not an exception; an unreachable endpoint raises.
    """

    def chat(self, messages: list[dict[str, str]], max_tokens: int) -> tuple[str, int, dict[str, Any], float]: ...


class ClientChatTarget:
    """:class:`ChatTarget` over the shared serving client (:class:`OpenAIClient`): the gate then reaches a
    managed local server and a remote vLLM endpoint through the same code as every other caller."""

    def __init__(self, client: OpenAIClient, temperature: float = 0.0):
        self.client, self.temperature = client, temperature

    @classmethod
    def connect(cls, base_url: str, model: str | None, timeout_s: float, temperature: float = 0.0) -> ClientChatTarget:
        """A target with its own client for ``base_url``; use it as a context manager to close the client."""
        return cls(OpenAIClient(base_url, model, timeout_s=timeout_s), temperature)

    def __enter__(self) -> ClientChatTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def chat(self, messages: list[dict[str, str]], max_tokens: int) -> ChatReply:
        started = time.monotonic()
        try:
            completion = self.client.chat(messages, max_tokens, temperature=self.temperature)
        except ServingTimeout:
            return ChatReply("", 0, {}, time.monotonic() - started)
        except ServingError as exc:
            if exc.status_code is None:  # unreachable: the run cannot go on
                raise
            return ChatReply(exc.message[:500], exc.status_code, {}, time.monotonic() - started)
        usage = asdict(completion.usage) if completion.usage else {}
        return ChatReply(completion.text, 200, usage, time.monotonic() - started)
