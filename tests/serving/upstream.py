"""Real HTTP servers for the gateway tests: an OpenAI-shaped upstream app, and uvicorn on a free loopback port.

The upstream answers like ``transformers serve``/vLLM (completion JSON with ``usage``, server-sent events
when streaming) under the model name it was asked for, so the traffic split is visible in what it saw.
A prompt ``slow:S`` makes it work for S seconds while watching for the caller to hang up, and ``drip:S``
streams a token every 20 ms for S seconds; either records a caller that hangs up: that is how the tests see
that the gateway really cancels backend work.

It also answers vLLM's runtime LoRA routes as vLLM documents them (``VLLM_ALLOW_RUNTIME_LORA_UPDATING``):
``GET /v1/models`` lists the base model and each loaded adapter (``parent``: the base, ``root``: its directory),
``POST /v1/load_lora_adapter`` refuses a loaded name (400) and a directory without ``adapter_config.json`` (404,
vLLM's "No adapter found"), ``POST /v1/unload_lora_adapter`` refuses an unknown name (404). ``forget_loads``
acknowledges loads without serving them; ``load_delay_s`` makes each load take that long; ``load_error`` fails
each load with that message.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from llmops.serving.server import HOST, free_port


@dataclass
class Upstream:
    """What the upstream saw: every request body, and the slow requests whose caller hung up."""

    seen: list[dict] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    adapters: dict[str, str] = field(default_factory=dict)  # loaded LoRA adapters: name -> directory
    lora_calls: list[tuple[str, dict]] = field(default_factory=list)  # (route, body) of each load and unload
    forget_loads: bool = False
    load_delay_s: float = 0.0  # how long a load takes (vLLM reads the adapter from disk)
    load_error: str | None = None  # every load fails with this message (400), as vLLM reports an engine error
    base: str = "base"

    def _lora_routes(self, app: FastAPI) -> None:
        def error(status: int, kind: str, message: str) -> JSONResponse:
            return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": status}},
                                status_code=status)  # fmt: skip

        @app.get("/v1/models")
        async def models() -> dict:
            cards = [{"id": self.base, "object": "model", "root": f"/models/{self.base}", "parent": None}]
            cards += [{"id": name, "object": "model", "root": path, "parent": self.base}
                      for name, path in self.adapters.items()]  # fmt: skip
            return {"object": "list", "data": cards}

        @app.post("/v1/load_lora_adapter")
        async def load(request: Request):
            body = await request.json()
            self.lora_calls.append(("load", body))
            name, path = body["lora_name"], body["lora_path"]
            if name in self.adapters:
                return error(400, "BadRequestError", f"The lora adapter '{name}' has already been loaded.")
            if not (Path(path) / "adapter_config.json").is_file():
                return error(404, "NotFoundError", f"Loading lora {name} failed: No adapter found for {path}")
            await asyncio.sleep(self.load_delay_s)
            if self.load_error:
                return error(400, "BadRequestError", self.load_error)
            if not self.forget_loads:
                self.adapters[name] = path
            return Response(f"Success: LoRA adapter '{name}' added successfully.", media_type="text/plain")

        @app.post("/v1/unload_lora_adapter")
        async def unload(request: Request):
            body = await request.json()
            self.lora_calls.append(("unload", body))
            if self.adapters.pop(body["lora_name"], None) is None:
                return error(404, "NotFoundError", f"The lora adapter '{body['lora_name']}' cannot be found.")
            return Response(f"Success: LoRA adapter '{body['lora_name']}' removed successfully.",
                            media_type="text/plain")  # fmt: skip

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/health")
        async def health() -> dict:
            return {"status": "ok"}

        self._lora_routes(app)

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
