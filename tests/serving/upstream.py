"""Real HTTP servers for the gateway tests: an OpenAI-shaped upstream app, and uvicorn on a free loopback port.

The upstream answers like ``transformers serve``/vLLM (completion JSON with ``usage``, server-sent events
when streaming) under the model name it was asked for, so the traffic split is visible in what it saw.
A prompt ``slow:S`` makes it work for S seconds while watching for the caller to hang up, and ``drip:S``
streams a token every 20 ms for S seconds; either records a caller that hangs up: that is how the tests see
that the gateway really cancels backend work.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from llmops.serving.server import HOST, free_port


@dataclass
class Upstream:
    """What the upstream saw: every request body, and the slow requests whose caller hung up."""

    seen: list[dict] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/health")
        async def health() -> dict:
            return {"status": "ok"}

        async def generate(route: str, request: Request):
            body = await request.json()
            self.seen.append(body)
            if body["model"] == "not-loaded":  # as vLLM answers for an adapter it does not have
                return JSONResponse({"error": {"message": "The model `not-loaded` does not exist."}}, status_code=404)
            text = body["prompt"] if route == "completions" else body["messages"][-1]["content"]
            tokens = min(body.get("max_tokens") or body.get("max_completion_tokens") or 5, 5)
            if isinstance(text, str) and text.startswith("slow:"):
                deadline = time.monotonic() + float(text.split(":")[1])
                while time.monotonic() < deadline:
                    if await request.is_disconnected():
                        self.abandoned.append(text)
                        return JSONResponse({}, status_code=499)
                    await asyncio.sleep(0.02)
                self.finished.append(text)
            usage = {"prompt_tokens": 3, "completion_tokens": tokens, "total_tokens": 3 + tokens}
            if isinstance(text, str) and text.startswith("drip:"):  # a token every 20 ms for S seconds
                return StreamingResponse(self._drip(text, body["model"]), media_type="text/event-stream")
            if body.get("stream"):
                return StreamingResponse(self._events(body["model"], tokens, usage), media_type="text/event-stream")
            choice = {"index": 0, "finish_reason": "length", **(
                {"text": f"from {body['model']}"} if route == "completions"
                else {"message": {"role": "assistant", "content": f"from {body['model']}"}})}  # fmt: skip
            return {"id": "x", "object": "text_completion", "model": body["model"], "choices": [choice], "usage": usage}

        @app.post("/v1/completions")
        async def completions(request: Request):
            return await generate("completions", request)

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            return await generate("chat/completions", request)

        return app

    async def _drip(self, text: str, model: str):
        deadline = time.monotonic() + float(text.split(":")[1])
        try:
            while time.monotonic() < deadline:
                yield f"data: {json.dumps({'model': model, 'choices': [{'index': 0, 'text': 't'}]})}\n\n"
                await asyncio.sleep(0.02)
        except asyncio.CancelledError:  # Starlette cancels the stream when the caller hangs up
            self.abandoned.append(text)
            raise
        self.finished.append(text)

    @staticmethod
    async def _events(model: str, tokens: int, usage: dict):
        for i in range(tokens):
            await asyncio.sleep(0.01)
            yield f"data: {json.dumps({'model': model, 'choices': [{'index': 0, 'text': f't{i}'}]})}\n\n"
        yield f"data: {json.dumps({'model': model, 'choices': [], 'usage': usage})}\n\n"
        yield "data: [DONE]\n\n"


@contextmanager
def serve_in_thread(app, host: str = HOST):
    """``app`` served by uvicorn on a free port of ``host`` in a daemon thread; yields its root URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"server on port {port} did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class StaleKeepAliveServer:
    """A raw HTTP/1.1 server that, like a backend whose idle keep-alive timer just fired, answers the first
    request on each connection (keep-alive) and closes the connection, without a word, on the second."""

    def __init__(self) -> None:
        self.port = free_port()
        self.answered = 0
        self.dropped = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for n in range(2):
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))  # fmt: skip
            body = json.loads(await reader.readexactly(length))
            if n == 1:
                self.dropped += 1
                break
            self.answered += 1
            answer = json.dumps({"model": body["model"], "choices": [{"index": 0, "text": "ok"}],
                                 "usage": {"prompt_tokens": 1, "completion_tokens": 1}}).encode()  # fmt: skip
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(answer)).encode() + b"\r\n\r\n" + answer)  # fmt: skip
            await writer.drain()
        writer.close()

    @contextmanager
    def running(self):
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(asyncio.start_server(self._handle, HOST, self.port))
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        try:
            yield f"http://{HOST}:{self.port}"
        finally:
            loop.call_soon_threadsafe(server.close)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
