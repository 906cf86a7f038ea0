"""The model under test, reached only through an OpenAI-compatible chat endpoint.

The runner depends on the small :class:`ChatTarget` protocol, not on an HTTP library, so any client that
can send chat messages fits (the shared serving client included). :class:`HttpChatTarget` is the httpx
implementation for a ``base_url`` such as ``http://127.0.0.1:8000/v1`` (the OpenAI SDK's convention: the
URL up to and including ``/v1``).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any, NamedTuple, Protocol

import httpx

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


class HttpChatTarget:
    """:class:`ChatTarget` over httpx: POST ``{base_url}/chat/completions``."""

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        timeout_s: float = 120.0,
        temperature: float = 0.0,
        api_key: str | None = None,
    ):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.temperature = model, temperature
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)

    def chat(self, messages: list[dict[str, str]], max_tokens: int) -> ChatReply:
        body: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens, "temperature": self.temperature}
        if self.model:  # servers with one model (vLLM) accept requests without a model name
            body["model"] = self.model
        started = time.monotonic()
        try:
            response = self._client.post(self.url, json=body)
        except httpx.TimeoutException:
            return ChatReply("", 0, {}, time.monotonic() - started)
        latency = time.monotonic() - started
        if response.status_code != 200:
            return ChatReply(response.text[:500], response.status_code, {}, latency)
        payload = response.json()
        text = payload["choices"][0]["message"].get("content") or ""
        return ChatReply(text, 200, payload.get("usage") or {}, latency)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpChatTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ClientChatTarget:
    """:class:`ChatTarget` over the shared serving client (:class:`OpenAIClient`): the gate then reaches a
    managed local server and a remote vLLM endpoint through the same code as every other caller."""

    def __init__(self, client: OpenAIClient, temperature: float = 0.0):
        self.client, self.temperature = client, temperature

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
