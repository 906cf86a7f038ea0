"""One OpenAI-compatible client for every model endpoint: the local gateway and remote vLLM alike.

Evaluations and scans call :meth:`OpenAIClient.complete` / :meth:`OpenAIClient.chat` and never care
which server answers. A refused or failed request raises :class:`ServingError` with the HTTP status and
the server's own message, so a gate's log says why (for instance the gateway's token cap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class ServingError(RuntimeError):
    """A request the server refused or could not answer. ``status_code`` is None when no HTTP answer
    came back at all (connection refused, timeout)."""

    def __init__(self, status_code: int | None, message: str, url: str):
        self.status_code, self.message, self.url = status_code, message, url
        status = f"HTTP {status_code}" if status_code is not None else "no answer"
        super().__init__(f"{url}: {status}: {message}")


class ServingTimeout(ServingError):
    """No answer within the client's timeout; unlike a refused connection, the server may be working on it."""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None  # "stop" (the model ended), "length" (hit max_tokens), ...
    usage: Usage | None
    model: str


def _server_message(response: httpx.Response) -> str:
    """The error text however the server shapes it: OpenAI/vLLM ``{"error": {"message"}}``, FastAPI
    ``{"detail"}``, ``{"error": "..."}``, or plain text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:2000] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("detail"))
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])
        if error is not None:
            return str(error)
    return str(body)[:2000]


def _usage(raw: dict) -> Usage:
    """The usage block; servers that omit ``total_tokens`` (some OpenAI-compatible ones do) get the sum."""
    prompt, completion = int(raw.get("prompt_tokens", 0)), int(raw.get("completion_tokens", 0))
    return Usage(prompt, completion, int(raw.get("total_tokens", prompt + completion)))


class OpenAIClient:
    """Client for ``base_url`` (ending in ``/v1``); ``model`` is the name requests ask for (omitted when None:
    a server with one model, such as vLLM, then answers with it)."""

    def __init__(self, base_url: str, model: str | None, *, timeout_s: float = 120.0, api_key: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)), headers=headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenAIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise ServingTimeout(None, f"no answer within {self.timeout_s}s", url) from None
        except httpx.HTTPError as exc:
            raise ServingError(None, f"cannot reach the server: {exc!r}", url) from None
        if response.status_code >= 400:
            raise ServingError(response.status_code, _server_message(response), url)
        return response

    def health(self) -> bool:
        """True when the server answers 200 on /health (served at the root, beside /v1)."""
        url = self.base_url.removesuffix("/v1") + "/health"
        try:
            return self._http.get(url, timeout=min(5.0, self.timeout_s)).status_code == 200
        except httpx.HTTPError:
            return False

    def models(self) -> list[str]:
        return [m["id"] for m in self._request("GET", f"{self.base_url}/models").json()["data"]]

    def _generate(self, route: str, payload: dict) -> Completion:
        url = f"{self.base_url}/{route}"
        body = self._request("POST", url, json={**({"model": self.model} if self.model else {}), **payload}).json()
        try:
            choice = body["choices"][0]
            text = choice["message"]["content"] if route == "chat/completions" else choice["text"]
        except (KeyError, IndexError, TypeError):
            raise ServingError(200, f"answer without a choice: {str(body)[:500]}", url) from None
        usage = body.get("usage")
        return Completion(
            text=text or "",
            finish_reason=choice.get("finish_reason"),
            usage=_usage(usage) if usage else None,
            model=body.get("model", self.model),
        )

    def complete(self, prompt: str, max_tokens: int, temperature: float = 0.0, **params: Any) -> Completion:
        """A text completion of ``prompt`` (``/v1/completions``); extra ``params`` go into the request."""
        return self._generate(
            "completions", {"prompt": prompt, "max_tokens": max_tokens, "temperature": temperature, **params}
        )

    def chat(self, messages: list[dict], max_tokens: int, temperature: float = 0.0, **params: Any) -> Completion:
        """The assistant's reply to ``messages`` (``/v1/chat/completions``)."""
        return self._generate(
            "chat/completions", {"messages": messages, "max_tokens": max_tokens, "temperature": temperature, **params}
        )
