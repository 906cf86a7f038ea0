"""The gateway in front of every model server: request limits (OWASP LLM10), traffic split, per-variant metrics.

Clients never reach the model server itself; they reach this small OpenAI-compatible proxy, which
enforces on the server side, where a client cannot opt out:

* typed requests (:mod:`llmops.serving.gateway_requests`): a bad field is the caller's 400 naming it, a
  token count above the cap is refused (400), a prompt above ``max_prompt_chars`` too (413), and so is
  a body too large to hold one before it is read in full; a body that is not ``application/json`` is
  415 and one nested deeper than ``max_json_depth`` 400;
* bounded load: at most ``max_in_flight`` requests at the backends and ``max_queued`` waiting for a
  slot; beyond that 429 with ``Retry-After``. A request that is not answered within
  ``request_timeout_s`` (queueing included) becomes 504, and its backend connection is closed, which
  stops the backend's generation, as does a client that hangs up;
* a stale pooled backend connection (the server closed it while idle) is retried once on a fresh one,
  so one caller's failure never lands on the next caller's request;
* only /health, /metrics, /v1/models, /v1/completions, /v1/chat/completions (and, with a token,
  /admin/traffic; with ``--sync-adapters``, the read-only /adapters) exist; the backend's model loading and
  other routes stay unreachable.

Traffic split (:mod:`llmops.serving.traffic`): clients ask for a stable name; the traffic table
rewrites it to the stable or the canary version, sticky per caller. The table comes from a watched
file (``--traffic-file``, the ConfigMap in kubernetes) or from ``PUT /admin/traffic`` (bearer token from
the environment variable named by ``--admin-token-env``; loopback callers only unless
``--admin-allow-remote``); a change applies to the next request, without a restart.

With ``--sync-adapters`` (the kubernetes pool's sidecars) the gateway also keeps its backend vLLM holding the
adapters the table lists (:mod:`llmops.serving.adapter_sync`), reports each one's state on ``GET /adapters``, and
its /health stays 503 until a first sync has reached vLLM and tried every listed adapter, so a starting pod takes
no traffic for a version it has not loaded yet (later syncs never take a ready pod out).

Per-variant Prometheus series on /metrics: :mod:`llmops.serving.gateway_metrics`. Every answered
request is also passed, as a :class:`RequestRecord`, to the ``on_request_done`` callbacks of
:func:`build_app` (an inference logger attaches there); a failing callback is logged, never the
caller's problem; they run on the event loop, so they must be quick (hand the record to a queue).

It runs as its own process: the same command line is the sidecar in front of vLLM in the kubernetes
profile (containers/vllm/deployment.yaml), and the local server's process-group kill takes it down with
the backend. It imports only the standard library, FastAPI, pydantic, anyio, httpx, uvicorn,
prometheus_client (all in the vLLM image) and its own ``gateway_*``/``traffic``/``lora``/``adapter_sync`` modules,
never the rest of ``llmops``
(except ``--inference-log``, which loads llmops.monitoring.inference_log).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from llmops.serving.adapter_sync import AdapterSync
from llmops.serving.gateway_metrics import GatewayMetrics
from llmops.serving.gateway_requests import (
    BODY_BYTES_PER_CHAR,
    BODY_OVERHEAD_BYTES,
    MAX_JSON_DEPTH,
    Refused,
    apply_limits,
    parse_body,
)
from llmops.serving.lora import LoraAdmin
from llmops.serving.traffic import (
    SESSION_HEADER,
    Assignment,
    Route,
    Target,
    TrafficTable,
    assign,
    read_table,
    watch_table,
)

log = logging.getLogger("llmops.gateway")

# Failures that mean "this connection was dead before the backend saw the request": safe to send once more.
_STALE_CONNECTION = (httpx.RemoteProtocolError, httpx.ConnectError, httpx.WriteError, httpx.ReadError)


@dataclass
class RequestRecord:
    """One answered generation request, as the ``on_request_done`` callbacks receive it."""

    endpoint: str  # "completions" or "chat/completions"
    started_at: float  # epoch seconds
    model: str = ""  # the stable name asked for ("" if refused before it was known)
    variant: str = "none"  # "stable", "canary", or "none" (refused before a variant was chosen)
    version: str = ""  # the served version's name
    status: int = 0
    duration_s: float = 0.0
    ttft_s: float | None = None  # streaming only
    output_tokens: int | None = None
    timed_out: bool = False
    client_gone: bool = False
    request: dict | None = None  # the body forwarded to the backend
    response: dict | None = None  # the backend's answer (non-streaming)
    error: str | None = None


RequestCallback = Callable[[RequestRecord], None]


class _ClientGone(Exception):
    pass


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status,
                        headers=headers)  # fmt: skip


class Admission:
    """At most ``max_in_flight`` requests at the backends and ``max_queued`` waiting; the rest get 429."""

    def __init__(self, max_in_flight: int, max_queued: int, retry_after_s: int, metrics: GatewayMetrics):
        self._slots = asyncio.Semaphore(max_in_flight)
        self.max_queued, self.retry_after_s, self.metrics = max_queued, retry_after_s, metrics
        self._waiting = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots.locked() and self._waiting >= self.max_queued:
            self.metrics.rejected.labels("queue_full").inc()
            raise Refused(429, "the server is at capacity; retry later", "rate_limited",
                          {"Retry-After": str(self.retry_after_s)})  # fmt: skip
        self._waiting += 1
        self.metrics.queued.inc()
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
            self.metrics.queued.dec()
        self.metrics.in_flight.inc()
        try:
            yield
        finally:
            self.metrics.in_flight.dec()
            self._slots.release()


async def _disconnected(request: Request) -> None:
    """Returns once the client hangs up (the body has been read, so the next ASGI message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _unless_client_leaves(request: Request, work: Coroutine[Any, Any, Any]) -> Any:
    """``work``'s result; if the client hangs up first (or the caller is cancelled by the timeout), ``work`` is
    cancelled, which closes its backend connection, and vLLM and ``transformers serve`` stop generating."""
    work_task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        done, _ = await asyncio.wait({work_task, gone}, return_when=asyncio.FIRST_COMPLETED)
        if work_task not in done:
            raise _ClientGone
        return work_task.result()
    finally:
        for task in (work_task, gone):
            task.cancel()
        await asyncio.gather(work_task, gone, return_exceptions=True)


async def _send(client: httpx.AsyncClient, path: str, payload: dict, *, stream: bool) -> httpx.Response:
    """POST ``payload``, once more on a fresh connection if the pooled one turns out to be dead."""
    request = client.build_request("POST", path, json=payload)
    try:
        return await client.send(request, stream=stream)
    except _STALE_CONNECTION as exc:
        log.warning("%s: %r on a pooled connection; retrying once on a new one", path, exc)
        return await client.send(client.build_request("POST", path, json=payload), stream=stream)


def _usage_tokens(body: Any) -> int | None:
    usage = body.get("usage") if isinstance(body, dict) else None
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    return tokens if isinstance(tokens, int) else None


def _has_text(chunk: dict) -> bool:
    for choice in chunk.get("choices") or []:
        if choice.get("text") or (choice.get("delta") or {}).get("content"):
            return True
    return False


def _is_loopback(request: Request) -> bool:
    try:
        return request.client is not None and ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def build_app(
    backend_url: str,
    *,
    model: str | None = None,
    backend_model: str | None = None,
    max_tokens: int,
    max_prompt_chars: int,
    request_timeout_s: float,
    max_in_flight: int = 4,
    max_queued: int = 16,
    retry_after_s: int = 1,
    max_json_depth: int = MAX_JSON_DEPTH,
    traffic_file: Path | None = None,
    traffic_poll_s: float = 1.0,
    admin_token: str | None = None,
    admin_allow_remote: bool = False,
    on_request_done: list[RequestCallback] | None = None,
    exit_with_parent: int | None = None,
    sync_adapters: bool = False,
    adapter_resync_s: float = 10.0,
) -> FastAPI:
    """The gateway app. ``backend_url`` is the default backend's root (its /health and /v1 live under it).

    The traffic table comes from ``traffic_file`` if given (and follows it), else it is one route:
    clients call ``model``, the backend receives ``backend_model``. ``admin_token`` (None: no admin
    endpoint) guards ``GET``/``PUT /admin/traffic``. ``on_request_done`` callbacks receive every
    generation request's :class:`RequestRecord` after its answer. ``sync_adapters``: keep the backend (vLLM)
    holding the table's ``adapters`` (:mod:`llmops.serving.adapter_sync`), a pass at start, on every table change
    and every ``adapter_resync_s``.
    """
    backend_url = backend_url.rstrip("/")
    body_limit = max_prompt_chars * BODY_BYTES_PER_CHAR + BODY_OVERHEAD_BYTES
    if traffic_file is not None:
        initial, loaded = read_table(traffic_file)
    elif model and backend_model:
        initial = TrafficTable(routes={model: Route(stable=Target(model=backend_model))})
    else:
        raise ValueError("give either traffic_file or both model and backend_model")
    metrics = GatewayMetrics()
    admission = Admission(max_in_flight, max_queued, retry_after_s, metrics)
    callbacks = on_request_done if on_request_done is not None else []
    created = int(time.time())
    timeout = httpx.Timeout(request_timeout_s, connect=min(5.0, request_timeout_s))
    clients: dict[str, httpx.AsyncClient] = {}
    adapters = AdapterSync(LoraAdmin(backend_url), metrics) if sync_adapters else None
    table_changed = asyncio.Event()

    def use_table(table: TrafficTable) -> None:
        app.state.traffic = table
        metrics.set_weights(table.routes)
        table_changed.set()
        log.info("traffic table now %s", table.model_dump_json(exclude_none=True))

    async def sync_adapters_loop(sync: AdapterSync) -> None:
        while True:
            table_changed.clear()
            try:
                await asyncio.to_thread(sync.sync, app.state.traffic)
            except Exception as exc:  # a bug must not end the sync for the pod's life: reported, then retried
                sync.error = f"adapter sync failed: {exc!r}"
                log.exception("adapter sync failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(table_changed.wait(), adapter_resync_s)

    def reload_error(message: str) -> None:
        metrics.reload_errors.inc()
        log.error("traffic table unchanged: %s", message)

    def backend_for(target: Target) -> httpx.AsyncClient:
        url = (target.backend or backend_url).rstrip("/")
        if url not in clients:
            clients[url] = httpx.AsyncClient(base_url=url, timeout=timeout)
        return clients[url]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if traffic_file is not None:
            watcher = watch_table(traffic_file, loaded, use_table, reload_error, traffic_poll_s)
            tasks.append(asyncio.create_task(watcher))
        if exit_with_parent:
            tasks.append(asyncio.create_task(_exit_with_parent(exit_with_parent)))
        if adapters is not None:
            tasks.append(asyncio.create_task(sync_adapters_loop(adapters)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for client in clients.values():
                await client.aclose()
            if adapters is not None:
                adapters.lora.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.metrics = metrics
    use_table(initial)

    def finish(record: RequestRecord, started: float) -> None:
        record.duration_s = time.monotonic() - started
        labels = (record.model, record.variant, record.version)
        metrics.requests.labels(*labels, f"{record.status // 100}xx").inc()
        metrics.duration.labels(*labels).observe(record.duration_s)
        if record.ttft_s is not None:
            metrics.ttft.labels(*labels).observe(record.ttft_s)
        if record.output_tokens:
            metrics.output_tokens.labels(*labels).inc(record.output_tokens)
        if record.timed_out:
            metrics.timeouts.labels(*labels).inc()
        log.info("/v1/%s %s %s/%s %d in %.3fs", record.endpoint, record.model, record.variant, record.version,
                 record.status, record.duration_s)  # fmt: skip
        for callback in callbacks:
            try:
                callback(record)
            except Exception:  # a logger's bug must not fail the answer; callbacks run on the event loop: be quick
                log.exception("request-completed callback %r failed", callback)

    @app.get("/health")
    async def health() -> JSONResponse:
        if adapters is not None and adapters.synced_at is None:  # a starting pod: its adapters not tried yet
            return JSONResponse({"status": "unavailable", "reason": "the adapter sync has not reached vLLM yet"},
                                status_code=503)  # fmt: skip
        routes = app.state.traffic.routes.values()
        targets = {t.backend or backend_url: t for r in routes for t in (r.stable, r.canary) if t is not None}
        for target in targets.values():  # each backend once
            try:
                answer = await backend_for(target).get("/health", timeout=5.0)
            except httpx.HTTPError as exc:
                return JSONResponse({"status": "unavailable", "reason": f"backend: {exc!r}"}, status_code=503)
            if answer.status_code != 200:
                return JSONResponse({"status": "unavailable", "reason": f"backend /health answered "
                                     f"{answer.status_code}"}, status_code=503)  # fmt: skip
        return JSONResponse({"status": "ok"})

    @app.get("/adapters")
    async def adapter_report() -> JSONResponse:
        if adapters is None:
            return _error(404, "Not Found", "not_found")
        return JSONResponse(adapters.report())

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    async def models() -> JSONResponse:
        entries = [{"id": name, "object": "model", "created": created, "owned_by": "llmops"}
                   for name in app.state.traffic.routes]  # fmt: skip
        return JSONResponse({"object": "list", "data": entries})

    def check_admin(request: Request) -> None:
        if admin_token is None:
            raise Refused(404, "Not Found", "not_found")
        if not admin_allow_remote and not _is_loopback(request):
            raise Refused(403, "the admin endpoint answers loopback callers only", "forbidden")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), admin_token.encode()):
            raise Refused(401, "a valid bearer token is required", "unauthorized", {"WWW-Authenticate": "Bearer"})

    @app.get("/admin/traffic")
    async def get_traffic(request: Request) -> JSONResponse:
        try:
            check_admin(request)
        except Refused as exc:
            return _error(exc.status, exc.message, exc.code, exc.headers)
        return JSONResponse(app.state.traffic.model_dump(mode="json", exclude_none=True))

    @app.put("/admin/traffic")
    async def put_traffic(request: Request) -> JSONResponse:
        try:
            check_admin(request)
            if traffic_file is not None:
                raise Refused(409, f"traffic follows {traffic_file}; change it there", "traffic_from_file")
            table = TrafficTable.model_validate(parse_body(await _read_body(request, BODY_OVERHEAD_BYTES)))
        except Refused as exc:
            return _error(exc.status, exc.message, exc.code, exc.headers)
        except ValidationError as exc:
            return _error(400, f"invalid traffic table: {exc}", "invalid_traffic")
        use_table(table)
        return JSONResponse(table.model_dump(mode="json", exclude_none=True))

    async def generate(route: str, request: Request) -> Response:
        started = time.monotonic()
        record = RequestRecord(endpoint=route, started_at=time.time())
        try:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                raise Refused(415, f"Content-Type must be application/json, got {content_type or 'none'!r}",
                              "unsupported_media_type")  # fmt: skip
            body = parse_body(await _read_body(request, body_limit), max_json_depth)
            table: TrafficTable = app.state.traffic
            asked = body.get("model")
            if asked is None and len(table.routes) == 1:
                asked = next(iter(table.routes))
            user = body.get("user")
            caller = request.headers.get(SESSION_HEADER) or (user if isinstance(user, str) else None)
            assignment = assign(table, asked, caller) if isinstance(asked, str) else None
            if assignment is None:
                raise Refused(404, f"model {asked!r} does not exist; this endpoint serves {sorted(table.routes)}",
                              "model_not_found")  # fmt: skip
            record.model, record.variant, record.version = assignment.model, assignment.variant, assignment.target.model
            payload = apply_limits(route, body, max_tokens=max_tokens, max_prompt_chars=max_prompt_chars)
        except Refused as exc:
            log.info("refused /v1/%s: %d %s", route, exc.status, exc.message)
            record.status, record.error = exc.status, exc.message
            finish(record, started)
            return _error(exc.status, exc.message, exc.code, exc.headers)
        payload["model"] = assignment.target.model
        record.request = payload
        if payload.get("stream"):
            payload["stream_options"] = {"include_usage": True}
            return await open_stream(route, request, payload, assignment, record, started)
        response = await answer(route, request, payload, assignment, record)
        finish(record, started)
        return response

    async def answer(route: str, request: Request, payload: dict, assignment: Assignment,
                     record: RequestRecord) -> Response:  # fmt: skip
        async def call() -> httpx.Response:
            async with admission.slot():
                return await _send(backend_for(assignment.target), f"/v1/{route}", payload, stream=False)

        try:
            async with asyncio.timeout(request_timeout_s):
                reply = await _unless_client_leaves(request, call())
        except Refused as exc:
            record.status, record.error = exc.status, exc.message
            return _error(exc.status, exc.message, exc.code, exc.headers)
        except (TimeoutError, httpx.TimeoutException):
            log.warning("/v1/%s: no backend answer within %ss", route, request_timeout_s)
            record.status, record.timed_out = 504, True
            return _error(504, f"the model did not answer within {request_timeout_s}s", "timeout")
        except _ClientGone:
            record.status, record.client_gone = 499, True  # nginx's code for "client closed request"
            return Response(status_code=499)
        except httpx.HTTPError as exc:
            record.status, record.error = 502, repr(exc)
            return _error(502, f"model backend unreachable: {exc!r}", "backend_unavailable")
        if reply.status_code == 404:
            record.status, record.error = 502, reply.text[:500]
            return _version_missing(assignment)
        record.status = reply.status_code
        try:
            content = reply.json()
        except ValueError:
            record.status = 502
            return _error(502, f"backend answered {reply.status_code} with a non-JSON body", "bad_backend_answer")
        if reply.status_code == 200 and isinstance(content, dict):
            content["model"] = assignment.model
            record.response, record.output_tokens = content, _usage_tokens(content)
        return JSONResponse(content, status_code=reply.status_code, headers=_variant_headers(assignment))

    async def open_stream(route: str, request: Request, payload: dict, assignment: Assignment,
                          record: RequestRecord, started: float) -> Response:  # fmt: skip
        """Relay the backend's server-sent events; the slot is held until the stream ends."""
        deadline = asyncio.get_running_loop().time() + request_timeout_s
        held = contextlib.AsyncExitStack()

        async def open_upstream() -> httpx.Response:
            await held.enter_async_context(admission.slot())
            opened = await _send(backend_for(assignment.target), f"/v1/{route}", payload, stream=True)
            held.push_async_callback(opened.aclose)
            return opened

        try:
            async with asyncio.timeout_at(deadline):
                upstream = await _unless_client_leaves(request, open_upstream())
            if upstream.status_code != 200:
                record.status, body = upstream.status_code, await upstream.aread()
                await held.aclose()
                if record.status == 404:
                    record.status, record.error = 502, body[:500].decode(errors="replace")
                    finish(record, started)
                    return _version_missing(assignment)
                finish(record, started)
                return JSONResponse(json.loads(body or b"{}"), status_code=record.status)
        except Refused as exc:
            await held.aclose()
            record.status, record.error = exc.status, exc.message
            finish(record, started)
            return _error(exc.status, exc.message, exc.code, exc.headers)
        except _ClientGone:
            await held.aclose()
            record.status, record.client_gone = 499, True
            finish(record, started)
            return Response(status_code=499)
        except (TimeoutError, httpx.HTTPError, ValueError) as exc:
            await held.aclose()
            timed_out = isinstance(exc, TimeoutError | httpx.TimeoutException)
            record.status, record.timed_out, record.error = (504 if timed_out else 502), timed_out, repr(exc)
            finish(record, started)
            return _error(record.status, f"model backend failed: {exc!r}", "timeout" if timed_out else "bad_backend")

        async def relay() -> AsyncIterator[str]:
            record.status = 200
            try:
                async with asyncio.timeout_at(deadline):
                    async for line in upstream.aiter_lines():
                        data = line.removeprefix("data: ").strip() if line.startswith("data: ") else ""
                        if data and data != "[DONE]":
                            chunk = json.loads(data)
                            if record.ttft_s is None and _has_text(chunk):
                                record.ttft_s = time.monotonic() - started
                            record.output_tokens = _usage_tokens(chunk) or record.output_tokens
                            if "model" in chunk:
                                chunk["model"] = assignment.model
                                line = "data: " + json.dumps(chunk)
                        yield line + "\n"
            except TimeoutError:
                record.timed_out, record.status = True, 504  # the 200 is sent; the error travels as an event
                yield (
                    "data: "
                    + json.dumps(
                        {
                            "error": {
                                "message": f"stream exceeded {request_timeout_s}s",
                                "type": "server_error",
                                "code": "timeout",
                            }
                        }
                    )
                    + "\n\n"
                )
            except asyncio.CancelledError:
                record.client_gone, record.status = True, 499
                raise
            finally:
                with anyio.CancelScope(shield=True):  # the slot and the backend connection go back even now
                    await held.aclose()
                finish(record, started)

        return StreamingResponse(relay(), media_type="text/event-stream", headers=_variant_headers(assignment))

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await generate("completions", request)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await generate("chat/completions", request)

    return app


def _version_missing(assignment: Assignment) -> JSONResponse:
    """The gateway checked the model name, so a backend 404 means the routed version is not loaded (an adapter
    lost with a restarted vLLM pod, say): the server's fault (502, counted against that variant), not the caller's."""
    return _error(502, f"{assignment.model!r} is routed to version {assignment.target.model!r}, which the backend "
                  "does not serve", "version_not_served")  # fmt: skip


def _variant_headers(assignment: Assignment) -> dict[str, str]:
    return {"X-Llmops-Variant": assignment.variant, "X-Llmops-Version": assignment.target.model}


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"request body of {declared} bytes exceeds {limit}", "body_too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"request body exceeds {limit} bytes", "body_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


async def _exit_with_parent(parent: int) -> None:
    """Take the whole process group down once the process that started it is gone (even by SIGKILL,
    when its cleanup never runs): the kernel re-parents us at its exit, so our parent pid changes."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    log.warning("parent process %d is gone: stopping process group %d", parent, os.getpgrp())
    os.killpg(os.getpgrp(), signal.SIGTERM)


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
    max_in_flight: int | None = None,
    max_queued: int | None = None,
    traffic_file: str | None = None,
    admin_token_env: str | None = None,
    inference_log: str | None = None,
    sync_adapters: bool = False,
) -> list[str]:
    """The gateway's command-line flags (after ``python -m llmops.serving.gateway``); the optional ones only
    when given, so the gateway's defaults apply otherwise."""
    args = [
        "--backend", backend_url, "--model", model, "--backend-model", backend_model,
        "--host", host, "--port", str(port), "--max-tokens", str(max_tokens),
        "--max-prompt-chars", str(max_prompt_chars), "--request-timeout-s", str(request_timeout_s),
    ]  # fmt: skip
    optional = {"--max-in-flight": max_in_flight, "--max-queued": max_queued, "--traffic-file": traffic_file,
                "--admin-token-env": admin_token_env, "--inference-log": inference_log}  # fmt: skip
    given = [str(v) for flag, value in optional.items() if value is not None for v in (flag, value)]
    return args + given + (["--sync-adapters"] if sync_adapters else [])


def _loopback_host(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", required=True, help="default backend root URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--model", help="the model name clients use (without --traffic-file)")
    parser.add_argument("--backend-model", help="the model name the backend expects (without --traffic-file)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-tokens", type=int, required=True, help="cap on max_tokens per request")
    parser.add_argument("--max-prompt-chars", type=int, required=True, help="cap on prompt characters")
    parser.add_argument("--request-timeout-s", type=float, required=True, help="answer deadline, queueing included")
    parser.add_argument("--max-in-flight", type=int, default=4, help="requests at the backends at once")
    parser.add_argument("--max-queued", type=int, default=16, help="requests waiting for a slot; more get 429")
    parser.add_argument("--traffic-file", type=Path, help="JSON traffic table to follow (the mounted ConfigMap)")
    parser.add_argument("--admin-token-env", help="environment variable holding the admin endpoint's bearer token")
    parser.add_argument(
        "--admin-allow-remote",
        action="store_true",
        help="let non-loopback callers reach the admin endpoint (still token-checked)",
    )
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop this process group when the process that started the gateway exits",
    )
    parser.add_argument("--inference-log", metavar="LAKE_URI",
                        help="log every request, masked, to <LAKE_URI>/inference/requests (llmops.monitoring)")
    parser.add_argument("--inference-log-flush-s", type=float, default=10.0, help="seconds between log writes")
    parser.add_argument("--sync-adapters", action="store_true",
                        help="load the traffic table's adapters into the backend vLLM, unload the rest")
    parser.add_argument("--adapter-resync-s", type=float, default=10.0, help="seconds between adapter syncs")
    args = parser.parse_args(argv)
    admin_token = os.environ.get(args.admin_token_env, "") if args.admin_token_env else None
    if admin_token == "":
        parser.error(f"--admin-token-env names {args.admin_token_env}, which is empty or unset")
    if admin_token and not args.admin_allow_remote and not _loopback_host(args.host):
        parser.error(f"the admin endpoint would listen on {args.host}; bind a loopback address or pass "
                     "--admin-allow-remote")  # fmt: skip
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    inference_log = None
    if args.inference_log:  # the one import of the rest of llmops (pyarrow, the masking): only when asked for
        from llmops.monitoring.inference_log import InferenceLog

        inference_log = InferenceLog(args.inference_log, flush_interval_s=args.inference_log_flush_s).start()
    try:
        app = build_app(
            args.backend,
            model=args.model,
            backend_model=args.backend_model,
            max_tokens=args.max_tokens,
            max_prompt_chars=args.max_prompt_chars,
            request_timeout_s=args.request_timeout_s,
            max_in_flight=args.max_in_flight,
            max_queued=args.max_queued,
            traffic_file=args.traffic_file,
            admin_token=admin_token,
            admin_allow_remote=args.admin_allow_remote,
            exit_with_parent=os.getppid() if args.exit_with_parent else None,
            on_request_done=[inference_log] if inference_log else None,
            sync_adapters=args.sync_adapters,
            adapter_resync_s=args.adapter_resync_s,
        )
    except ValueError as exc:
        parser.error(str(exc))
    if inference_log:
        # uvicorn re-raises SIGTERM after its graceful shutdown; as SystemExit, the finally below still runs
        signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    finally:
        if inference_log:  # a clean stop writes the open batch
            inference_log.close()


if __name__ == "__main__":
    main()
