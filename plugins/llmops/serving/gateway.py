"""The request-limit gateway in front of every model server (OWASP LLM10, unbounded consumption).

Clients never reach the model server itself; they reach this small OpenAI-compatible proxy, which
enforces the limits on the server side, where a client cannot opt out of them:

* ``max_tokens`` (or ``max_completion_tokens``) above the cap is refused with 400 naming the cap, not
  clamped: a caller that asked for more learns that it will not get it instead of reading a silently
  truncated answer as the model's choice to stop. A request without one gets the cap.
* prompts longer than ``max_prompt_chars`` characters (all prompt strings or message texts together)
  are refused with 413; so is a body too large to hold such a prompt, before it is read in full.
* a backend answer that takes longer than ``request_timeout_s`` becomes 504. The backend may go on
  generating after that, which is why the token cap matters as well.
* only allowlisted request fields are forwarded: ``transformers serve`` accepts a ``generation_config``
  field that would override every limit above; ``n > 1`` and streaming are refused.
* only /health, /v1/models, /v1/completions and /v1/chat/completions exist; the backend's model
  loading, reset and other routes stay unreachable. The gateway names the model itself, so clients
  see one stable name whatever the backend calls it.

It runs as its own process, not as a thread in the caller: the same command line is the sidecar in
front of vLLM in the kubernetes profile (containers/vllm/deployment.yaml), a crash or a slow request
cannot stall the caller's interpreter, and the local server's process-group kill takes it down with
the backend. For that reason this file imports only the standard library, FastAPI, httpx and uvicorn
(all in the vLLM image) and nothing from ``llmops``: the vLLM image runs it as a plain script.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import AsyncIterator

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

log = logging.getLogger("llmops.gateway")

_COMMON_FIELDS = {"model", "max_tokens", "temperature", "top_p", "stop", "seed", "frequency_penalty",
                  "presence_penalty", "n", "stream", "user", "logprobs"}
FORWARDED_FIELDS = {
    "completions": _COMMON_FIELDS | {"prompt", "echo"},
    "chat/completions": _COMMON_FIELDS | {"messages", "max_completion_tokens", "top_logprobs"},
}
# JSON may spell one character as a 6-byte \uXXXX escape; the rest is room for the other fields.
_BODY_BYTES_PER_CHAR = 6
_BODY_OVERHEAD_BYTES = 64 * 1024


class Refused(Exception):
    def __init__(self, status: int, message: str, code: str):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _error(status: int, message: str, code: str) -> JSONResponse:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status)


def _prompt_chars(route: str, body: dict) -> int:
    """Characters of prompt text in a request; refuses shapes the gateway cannot measure."""
    if route == "completions":
        prompt = body.get("prompt")
        prompts = [prompt] if isinstance(prompt, str) else prompt
        if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
            raise Refused(400, "`prompt` must be a string or a non-empty list of strings", "invalid_prompt")
        return sum(len(p) for p in prompts)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise Refused(400, "`messages` must be a non-empty list of message objects", "invalid_messages")
    total = 0
    for message in messages:
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(parts, list) or not all(
            isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in parts
        ):
            raise Refused(400, "message `content` must be text (a string or text parts)", "invalid_messages")
        total += sum(len(p["text"]) for p in parts)
    return total


def apply_limits(route: str, body: dict, *, max_tokens: int, max_prompt_chars: int) -> dict:
    """The body to forward for an accepted request; raises :class:`Refused` for one that breaks a limit."""
    forwarded = {k: v for k, v in body.items() if k in FORWARDED_FIELDS[route]}
    if forwarded.get("stream"):
        raise Refused(400, "streaming is not supported by this endpoint", "stream_unsupported")
    if forwarded.get("n", 1) != 1:
        raise Refused(400, "only n=1 is supported by this endpoint", "n_unsupported")
    asked = {k: forwarded[k] for k in ("max_tokens", "max_completion_tokens") if forwarded.get(k) is not None}
    for key, value in asked.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise Refused(400, f"`{key}` must be a positive integer, got {value!r}", "invalid_max_tokens")
        if value > max_tokens:
            raise Refused(400, f"`{key}`={value} exceeds this server's cap of {max_tokens} tokens",
                          "max_tokens_exceeded")
    if not asked:
        forwarded["max_tokens"] = max_tokens
    chars = _prompt_chars(route, forwarded)
    if chars > max_prompt_chars:
        raise Refused(413, f"prompt has {chars} characters; this server accepts at most {max_prompt_chars}",
                      "prompt_too_long")
    return forwarded


async def _read_body(request: Request, limit: int) -> dict:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"request body of {declared} bytes exceeds {limit}", "body_too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"request body exceeds {limit} bytes", "body_too_large")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks))
    except ValueError:
        raise Refused(400, "request body is not valid JSON", "invalid_json") from None
    if not isinstance(body, dict):
        raise Refused(400, "request body must be a JSON object", "invalid_json")
    return body


async def _exit_with_parent(parent: int) -> None:
    """Take the whole process group down once the process that started it is gone (even by SIGKILL,
    when its cleanup never runs): the kernel re-parents us at its exit, so our parent pid changes."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    log.warning("parent process %d is gone: stopping process group %d", parent, os.getpgrp())
    os.killpg(os.getpgrp(), signal.SIGTERM)


def build_app(
    backend_url: str,
    *,
    model: str,
    backend_model: str,
    max_tokens: int,
    max_prompt_chars: int,
    request_timeout_s: float,
    exit_with_parent: int | None = None,
) -> FastAPI:
    """The gateway app. ``backend_url`` is the backend's root (its /health and /v1 live under it);
    clients call the model ``model``, the backend receives ``backend_model``."""
    backend_url = backend_url.rstrip("/")
    body_limit = max_prompt_chars * _BODY_BYTES_PER_CHAR + _BODY_OVERHEAD_BYTES
    created = int(time.time())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(request_timeout_s, connect=min(5.0, request_timeout_s))
        async with httpx.AsyncClient(base_url=backend_url, timeout=timeout) as client:
            app.state.backend = client
            watcher = asyncio.create_task(_exit_with_parent(exit_with_parent)) if exit_with_parent else None
            yield
            if watcher:
                watcher.cancel()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    async def health(request: Request) -> JSONResponse:
        try:
            answer = await request.app.state.backend.get("/health", timeout=5.0)
        except httpx.HTTPError as exc:
            return JSONResponse({"status": "unavailable", "reason": f"backend: {exc!r}"}, status_code=503)
        if answer.status_code != 200:
            return JSONResponse({"status": "unavailable", "reason": f"backend /health answered {answer.status_code}"},
                                status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/v1/models")
    async def models() -> JSONResponse:
        entry = {"id": model, "object": "model", "created": created, "owned_by": "llmops"}
        return JSONResponse({"object": "list", "data": [entry]})

    async def forward(route: str, request: Request) -> JSONResponse:
        started = time.monotonic()
        try:
            body = await _read_body(request, body_limit)
            if body.get("model", model) != model:
                raise Refused(404, f"model {body['model']!r} does not exist; this endpoint serves {model!r}",
                              "model_not_found")
            payload = apply_limits(route, body, max_tokens=max_tokens, max_prompt_chars=max_prompt_chars)
        except Refused as exc:
            log.info("refused /v1/%s: %d %s", route, exc.status, exc.message)
            return _error(exc.status, exc.message, exc.code)
        payload["model"] = backend_model
        try:
            async with asyncio.timeout(request_timeout_s):
                answer = await request.app.state.backend.post(f"/v1/{route}", json=payload)
        except (TimeoutError, httpx.TimeoutException):
            log.warning("/v1/%s: no backend answer within %ss", route, request_timeout_s)
            return _error(504, f"the model did not answer within {request_timeout_s}s", "timeout")
        except httpx.HTTPError as exc:
            return _error(502, f"model backend unreachable: {exc!r}", "backend_unavailable")
        try:
            content = answer.json()
        except ValueError:
            return _error(502, f"backend answered {answer.status_code} with a non-JSON body", "bad_backend_answer")
        if answer.status_code == 200 and isinstance(content, dict):
            content["model"] = model
        log.info("/v1/%s %d in %.3fs", route, answer.status_code, time.monotonic() - started)
        return JSONResponse(content, status_code=answer.status_code)

    @app.post("/v1/completions")
    async def completions(request: Request) -> JSONResponse:
        return await forward("completions", request)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> JSONResponse:
        return await forward("chat/completions", request)

    return app


def gateway_args(
    backend_url: str,
    *,
    model: str,
    backend_model: str,
    host: str,
    port: int,
    max_tokens: int,
    max_prompt_chars: int,
    request_timeout_s: float,
) -> list[str]:
    """The gateway's command-line flags (after ``python -m llmops.serving.gateway`` or the script path)."""
    return [
        "--backend", backend_url, "--model", model, "--backend-model", backend_model,
        "--host", host, "--port", str(port), "--max-tokens", str(max_tokens),
        "--max-prompt-chars", str(max_prompt_chars), "--request-timeout-s", str(request_timeout_s),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", required=True, help="backend root URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--model", required=True, help="the model name clients use")
    parser.add_argument("--backend-model", required=True, help="the model name the backend expects")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-tokens", type=int, required=True, help="cap on max_tokens per request")
    parser.add_argument("--max-prompt-chars", type=int, required=True, help="cap on prompt characters")
    parser.add_argument("--request-timeout-s", type=float, required=True, help="backend answer deadline")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop this process group when the process that started the gateway exits")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(
        args.backend,
        model=args.model,
        backend_model=args.backend_model,
        max_tokens=args.max_tokens,
        max_prompt_chars=args.max_prompt_chars,
        request_timeout_s=args.request_timeout_s,
        exit_with_parent=os.getppid() if args.exit_with_parent else None,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
