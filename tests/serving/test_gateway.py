"""The gateway over real HTTP (uvicorn on loopback ports) in front of a real upstream HTTP app: hostile input,
bounded load, cancellation, stale connections, the sticky weighted traffic split, its admin endpoint and
watched file, per-variant Prometheus metrics and the request-completed callbacks."""

from __future__ import annotations

import asyncio
import json
import math
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmops.serving import gateway
from llmops.serving.traffic import Route, Target, TrafficTable, write_table
from tests.serving.upstream import StaleKeepAliveServer, serve_in_thread

TOKEN = "test-admin-token"
LIMITS = {"max_tokens": 32, "max_prompt_chars": 2000}
STABLE, CANARY = "support-assistant-v6", "support-assistant-v7"


@pytest.fixture
def gateway_url(upstream):
    """A fresh gateway (fresh metrics, table and admission) in front of the module's upstream."""
    state, url = upstream
    state.seen.clear()
    app = gateway.build_app(url, model="support-assistant", backend_model=STABLE, request_timeout_s=2.0,
                            admin_token=TOKEN, max_in_flight=2, max_queued=1, **LIMITS)  # fmt: skip
    with serve_in_thread(app) as root:
        yield root


def _split(weight: float) -> dict:
    return {"routes": {"support-assistant": {"stable": {"model": STABLE}, "canary": {"model": CANARY},
                                             "canary_weight": weight}}}  # fmt: skip


def _set_weight(root: str, weight: float) -> None:
    answer = httpx.put(f"{root}/admin/traffic", json=_split(weight), headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text


def _metrics(root: str) -> dict[tuple, float]:
    """Samples by (name, sorted labels)."""
    text = httpx.get(f"{root}/metrics").text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}  # fmt: skip


def _sample(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# ---- hostile input ----------------------------------------------------------------------------------------------


def test_hostile_bodies_get_4xx_with_a_message_and_never_reach_the_backend(gateway_url, upstream):
    state, _ = upstream
    url = f"{gateway_url}/v1/completions"
    ok = {"prompt": "hello", "max_tokens": 4}
    deep = ("[" * 1000 + "]" * 1000).encode()
    cases = [
        ("completions", b'{"prompt": ' + deep + b"}", 400, "nests deeper"),
        ("completions", b'{"prompt": "x", "a": ' + b"[" * 10_000 + b"}", 400, "nests deeper"),
        ("completions", b'{"prompt": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 200, ""),  # brackets in a string
        ("completions", json.dumps({**ok, "temperature": "hot"}), 400, "`temperature`"),
        ("completions", json.dumps({**ok, "temperature": True}), 400, "`temperature`"),
        ("completions", json.dumps({**ok, "seed": "x"}), 400, "`seed`"),
        ("completions", json.dumps({**ok, "stop": 123}), 400, "`stop"),
        ("completions", json.dumps({**ok, "n": True}), 400, "`n`"),
        ("completions", json.dumps({**ok, "n": 2}), 400, "n=1"),
        ("completions", json.dumps({"prompt": ""}), 400, "empty"),
        ("completions", json.dumps({"prompt": []}), 400, "`prompt"),
        ("completions", json.dumps({"prompt": "hi", "max_completion_tokens": 33}), 400, "cap of 32"),
        ("chat/completions", json.dumps({"messages": [{"content": "hi"}]}), 400, "`messages.0.role`"),
        ("chat/completions", json.dumps({"messages": [{"role": "user", "content": "hi"}], "top_p": 0}), 400,
         "`top_p`"),
        ("completions", b"[1, 2]", 400, "JSON object"),
        ("completions", b"{not json", 400, "not valid JSON"),
    ]  # fmt: skip
    for route, body, status, words in cases:
        answer = httpx.post(f"{gateway_url}/v1/{route}", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == status, (body[:80], answer.text)
        if status != 200:
            assert words in answer.json()["error"]["message"], (body[:80], answer.text)
    assert len(state.seen) == 1  # only the valid one reached the backend
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
        headers = {"Content-Type": content_type} if content_type else {}
        answer = httpx.post(url, content=json.dumps(ok), headers=headers)
        assert answer.status_code == 415 and "application/json" in answer.json()["error"]["message"]
    assert httpx.post(url, json=ok).status_code == 200  # the next, valid request is unharmed
    assert httpx.get(f"{gateway_url}/health").status_code == 200
    assert len(state.seen) == 2
    assert state.seen[-1] == {**ok, "model": STABLE}  # forwarded as given, under the served version's name


def test_max_completion_tokens_on_completions_is_the_same_cap_and_sent_as_max_tokens(gateway_url, upstream):
    answer = httpx.post(f"{gateway_url}/v1/completions", json={"prompt": "hi", "max_completion_tokens": 3})
    assert answer.status_code == 200
    assert upstream[0].seen[-1] == {"prompt": "hi", "max_tokens": 3, "model": STABLE}


async def _post_all(url: str, bodies: list[dict], timeout: float = 10.0) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=timeout) as client:
        return await asyncio.gather(*(client.post(url, json=b) for b in bodies))


def test_load_beyond_the_queue_gets_429_with_retry_after(gateway_url, upstream):
    """max_in_flight=2, max_queued=1: of 5 concurrent slow requests, 3 are served and 2 turned away at once."""
    started = time.monotonic()
    answers = asyncio.run(_post_all(f"{gateway_url}/v1/completions", [{"prompt": "slow:0.6"}] * 5))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 200, 429, 429], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1 and "capacity" in refused.json()["error"]["message"]
    assert time.monotonic() - started >= 1.2  # the queued one waited for a slot: two rounds of 0.6 s
    samples = _metrics(gateway_url)
    assert _sample(samples, "llmops_gateway_rejected_total", reason="queue_full") == 2
    assert _sample(samples, "llmops_gateway_in_flight_requests") == 0
    assert _sample(samples, "llmops_gateway_queued_requests") == 0


def test_backend_work_is_cancelled_when_the_client_hangs_up_or_the_timeout_fires(gateway_url, upstream):
    state, _ = upstream
    state.abandoned.clear()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{gateway_url}/v1/completions", json={"prompt": "slow:5.1"}, timeout=0.3)
    deadline = time.monotonic() + 3
    while "slow:5.1" not in state.abandoned and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.abandoned == ["slow:5.1"]  # the upstream saw the gateway hang up well before its 5 s were over

    answer = httpx.post(f"{gateway_url}/v1/completions", json={"prompt": "slow:5.2"}, timeout=10)
    assert answer.status_code == 504 and "within 2.0s" in answer.json()["error"]["message"]
    deadline = time.monotonic() + 3
    while "slow:5.2" not in state.abandoned and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.abandoned == ["slow:5.1", "slow:5.2"]
    assert "slow:5.1" not in state.finished and "slow:5.2" not in state.finished

    # a stream whose caller leaves before the first token, and one that leaves in the middle
    with pytest.raises(httpx.ReadTimeout):
        with httpx.stream("POST", f"{gateway_url}/v1/completions", json={"prompt": "slow:5.3", "stream": True},
                          timeout=0.3) as stream:  # fmt: skip
            stream.read()
    with httpx.stream("POST", f"{gateway_url}/v1/completions", json={"prompt": "drip:5.4", "stream": True}) as stream:
        assert next(stream.iter_lines()).startswith("data: ")
    deadline = time.monotonic() + 3
    while len(state.abandoned) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.abandoned[2:] == ["slow:5.3", "drip:5.4"]
    assert _sample(_metrics(gateway_url), "llmops_gateway_in_flight_requests") == 0  # every slot came back
    samples = _metrics(gateway_url)
    labels = {"model": "support-assistant", "variant": "stable", "version": STABLE}
    assert _sample(samples, "llmops_gateway_timeouts_total", **labels) == 1
    assert _sample(samples, "llmops_gateway_requests_total", **labels, status_class="5xx") == 1


def test_a_stale_pooled_connection_is_retried_on_a_fresh_one():
    backend = StaleKeepAliveServer()
    with backend.running() as url:
        app = gateway.build_app(url, model="m", backend_model="m", request_timeout_s=5.0, **LIMITS)
        with serve_in_thread(app) as root:
            first = httpx.post(f"{root}/v1/completions", json={"prompt": "a"})
            second = httpx.post(f"{root}/v1/completions", json={"prompt": "b"})
    assert first.status_code == 200 and second.status_code == 200, second.text
    assert (backend.answered, backend.dropped) == (2, 1)  # the second request did meet the dead connection


# ---- traffic split ----------------------------------------------------------------------------------------------


def test_weights_are_honoured_sticky_and_change_without_restart(gateway_url, upstream):
    state, _ = upstream
    _set_weight(gateway_url, 0.2)
    callers, p = 1000, 0.2  # 3 sigma: +-0.038
    variants: dict[str, str] = {}
    with httpx.Client(base_url=gateway_url) as client:
        for i in range(callers):
            answer = client.post("/v1/completions", json={"prompt": "hi", "max_tokens": 1, "user": f"caller-{i}"})
            assert answer.status_code == 200
            variants[f"caller-{i}"] = answer.headers["X-Llmops-Variant"]
            version = answer.headers["X-Llmops-Version"]
            assert answer.json()["model"] == "support-assistant"  # clients only ever see the stable name
            assert state.seen[-1]["model"] == version == (CANARY if variants[f"caller-{i}"] == "canary" else STABLE)
        share = sum(v == "canary" for v in variants.values()) / callers
        assert abs(share - p) <= 3 * math.sqrt(p * (1 - p) / callers), share

        # sticky: the same caller lands on the same variant every time; a session header takes precedence
        for caller in list(variants)[:20]:
            again = {client.post("/v1/completions", json={"prompt": "hi", "user": caller}).headers["X-Llmops-Variant"]
                     for _ in range(3)}  # fmt: skip
            assert again == {variants[caller]}
        by_session = {client.post("/v1/chat/completions", headers={"X-Session-Id": "conversation-42"},
                                  json={"messages": [{"role": "user", "content": "hi"}], "user": f"u{i}"}
                                  ).headers["X-Llmops-Version"] for i in range(10)}  # fmt: skip
        assert len(by_session) == 1

        # raising the weight moves stable callers over, never a canary caller back; 0 and 1 are absolute
        _set_weight(gateway_url, 0.5)
        sample = list(variants)[:200]
        now = {c: client.post("/v1/completions", json={"prompt": "hi", "user": c}).headers["X-Llmops-Variant"]
               for c in sample}  # fmt: skip
        assert all(now[c] == "canary" for c in sample if variants[c] == "canary")
        assert 0.39 < sum(v == "canary" for v in now.values()) / len(sample) < 0.61  # 0.5 +- 3 sigma
        for weight, expected in ((0.0, {"stable"}), (1.0, {"canary"})):
            _set_weight(gateway_url, weight)
            seen = {client.post("/v1/completions", json={"prompt": "hi", "user": c}).headers["X-Llmops-Variant"]
                    for c in sample[:30]}  # fmt: skip
            assert seen == expected, weight
    assert httpx.get(f"{gateway_url}/v1/models").json()["data"][0]["id"] == "support-assistant"


def test_admin_endpoint_refuses_unauthenticated_and_remote_callers(gateway_url, upstream):
    before = httpx.get(f"{gateway_url}/admin/traffic", headers={"Authorization": f"Bearer {TOKEN}"})
    assert before.status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        answer = httpx.put(f"{gateway_url}/admin/traffic", json=_split(1.0), headers=headers)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer", headers
        assert httpx.get(f"{gateway_url}/admin/traffic", headers=headers).status_code == 401
    after = httpx.get(f"{gateway_url}/admin/traffic", headers={"Authorization": f"Bearer {TOKEN}"})
    assert after.json() == before.json()  # nothing changed
    bad = httpx.put(f"{gateway_url}/admin/traffic", json={"routes": {"x": {"stable": {"model": "a"},
                    "canary_weight": 0.5}}}, headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert bad.status_code == 400 and "needs a canary" in bad.json()["error"]["message"]

    # a caller from another host is refused even with the token (the app seen from a remote peer address)
    app = gateway.build_app(upstream[1], model="m", backend_model="m", request_timeout_s=2.0, admin_token=TOKEN,
                            **LIMITS)  # fmt: skip

    async def remote_call() -> int:
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            answer = await client.put("/admin/traffic", json=_split(1.0), headers={"Authorization": f"Bearer {TOKEN}"})
            return answer.status_code

    assert asyncio.run(remote_call()) == 403
    no_admin = gateway.build_app(upstream[1], model="m", backend_model="m", request_timeout_s=2.0, **LIMITS)
    with serve_in_thread(no_admin) as root:
        assert httpx.get(f"{root}/admin/traffic", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_admin_endpoint_will_not_listen_beyond_loopback_by_default(monkeypatch, capsys):
    monkeypatch.setenv("GATEWAY_TEST_TOKEN", TOKEN)
    args = ["--backend", "http://127.0.0.1:1", "--model", "m", "--backend-model", "m", "--port", "1",
            "--max-tokens", "8", "--max-prompt-chars", "80", "--request-timeout-s", "1"]  # fmt: skip
    with pytest.raises(SystemExit) as refused:
        gateway.main([*args, "--host", "0.0.0.0", "--admin-token-env", "GATEWAY_TEST_TOKEN"])
    assert refused.value.code == 2 and "--admin-allow-remote" in capsys.readouterr().err
    monkeypatch.setenv("GATEWAY_TEST_TOKEN", "")
    with pytest.raises(SystemExit):  # an empty token is no token: refused, not an open admin endpoint
        gateway.main([*args, "--admin-token-env", "GATEWAY_TEST_TOKEN"])
    assert "empty or unset" in capsys.readouterr().err


def test_traffic_file_is_followed_and_a_bad_edit_keeps_the_last_good_table(upstream, tmp_path):
    state, url = upstream
    table_file = tmp_path / "traffic.json"
    route = Route(stable=Target(model=STABLE), canary=Target(model=CANARY), canary_weight=0.0)
    write_table(table_file, TrafficTable(routes={"support-assistant": route}))
    app = gateway.build_app(url, request_timeout_s=2.0, traffic_file=table_file, traffic_poll_s=0.05,
                            admin_token=TOKEN, **LIMITS)  # fmt: skip

    def versions() -> set[str]:
        return {httpx.post(f"{root}/v1/completions", json={"prompt": "hi", "user": f"c{i}"}).headers[
            "X-Llmops-Version"] for i in range(20)}  # fmt: skip

    def wait_for(expected: set[str]) -> set[str]:
        deadline = time.monotonic() + 5
        while (seen := versions()) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return seen

    with serve_in_thread(app) as root:
        assert versions() == {STABLE}
        all_canary = route.model_copy(update={"canary_weight": 1.0})
        write_table(table_file, TrafficTable(routes={"support-assistant": all_canary}))
        assert wait_for({CANARY}) == {CANARY}
        table_file.write_text('{"routes": {"support-assistant": {"stable": {"model": "x"}, "canary_weight": 2}}}')
        deadline = time.monotonic() + 5
        while _sample(_metrics(root), "llmops_gateway_traffic_reload_errors_total") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _sample(_metrics(root), "llmops_gateway_traffic_reload_errors_total") == 1
        assert versions() == {CANARY}  # the last good table stays in force
        put = httpx.put(f"{root}/admin/traffic", json=_split(0.0), headers={"Authorization": f"Bearer {TOKEN}"})
        assert put.status_code == 409  # one place for the weights: the file
        samples = _metrics(root)
        assert _sample(samples, "llmops_gateway_traffic_weight", model="support-assistant", variant="canary",
                       version=CANARY) == 1.0  # fmt: skip


def test_a_traffic_file_changed_before_the_gateway_serves_is_picked_up(upstream, tmp_path):
    table_file = tmp_path / "traffic.json"
    route = Route(stable=Target(model=STABLE), canary=Target(model=CANARY), canary_weight=0.0)
    write_table(table_file, TrafficTable(routes={"support-assistant": route}))
    app = gateway.build_app(upstream[1], request_timeout_s=2.0, traffic_file=table_file, traffic_poll_s=0.05,
                            **LIMITS)  # fmt: skip
    write_table(table_file, TrafficTable(routes={"support-assistant": route.model_copy(update={"canary_weight": 1})}))
    with serve_in_thread(app) as root:
        deadline = time.monotonic() + 5
        while True:
            version = httpx.post(f"{root}/v1/completions", json={"prompt": "hi"}).headers["X-Llmops-Version"]
            if version == CANARY or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert version == CANARY


def test_a_routed_version_the_backend_lost_is_a_502_for_that_variant(gateway_url):
    table = {"routes": {"support-assistant": {"stable": {"model": STABLE}, "canary": {"model": "not-loaded"},
                                              "canary_weight": 1.0}}}  # fmt: skip
    put = httpx.put(f"{gateway_url}/admin/traffic", json=table, headers={"Authorization": f"Bearer {TOKEN}"})
    assert put.status_code == 200
    for stream in (False, True):
        answer = httpx.post(f"{gateway_url}/v1/completions", json={"prompt": "hi", "stream": stream})
        assert answer.status_code == 502 and "not-loaded" in answer.json()["error"]["message"]
    samples = _metrics(gateway_url)
    labels = {"model": "support-assistant", "variant": "canary", "version": "not-loaded"}
    assert _sample(samples, "llmops_gateway_requests_total", **labels, status_class="5xx") == 2
    assert _sample(samples, "llmops_gateway_in_flight_requests") == 0


# ---- metrics and callbacks --------------------------------------------------------------------------------------


def test_metrics_per_variant_and_request_callbacks(upstream, tmp_path):
    records: list[gateway.RequestRecord] = []

    def broken(record: gateway.RequestRecord) -> None:
        raise RuntimeError("a logger bug")

    app = gateway.build_app(upstream[1], model="support-assistant", backend_model=STABLE, request_timeout_s=2.0,
                            admin_token=TOKEN, on_request_done=[broken, records.append], **LIMITS)  # fmt: skip
    with serve_in_thread(app) as root:
        _set_weight(root, 0.5)
        counts = {"stable": 0, "canary": 0}
        for i in range(60):
            answer = httpx.post(f"{root}/v1/completions", json={"prompt": "hi", "max_tokens": 3, "user": f"u{i}"})
            assert answer.status_code == 200
            counts[answer.headers["X-Llmops-Variant"]] += 1
        bad = httpx.post(f"{root}/v1/completions", json={"prompt": "hi", "seed": "x"}, headers={"X-Session-Id": "s1"})
        assert bad.status_code == 400
        with httpx.stream("POST", f"{root}/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}],
                          "stream": True, "max_tokens": 4}, headers={"X-Session-Id": "s1"}) as stream:  # fmt: skip
            lines = [line for line in stream.iter_lines() if line.startswith("data: ")]
            streamed_variant = stream.headers["X-Llmops-Variant"]
        samples = _metrics(root)

    assert lines[-1] == "data: [DONE]" and len(lines) == 6  # 4 tokens, the usage chunk, [DONE]
    assert all(json.loads(line[6:])["model"] == "support-assistant" for line in lines[:-1])
    counts[streamed_variant] += 1
    for variant, version in (("stable", STABLE), ("canary", CANARY)):
        labels = {"model": "support-assistant", "variant": variant, "version": version}
        assert _sample(samples, "llmops_gateway_requests_total", **labels, status_class="2xx") == counts[variant]
        streamed = variant == streamed_variant  # the stream's and the refused request's variant (same session)
        assert _sample(samples, "llmops_gateway_requests_total", **labels, status_class="4xx") == streamed
        assert _sample(samples, "llmops_gateway_request_duration_seconds_count", **labels) == counts[variant] + streamed
        assert _sample(samples, "llmops_gateway_output_tokens_total", **labels) == 3 * (counts[variant] - streamed) + (
            4 * streamed)  # fmt: skip
        assert _sample(samples, "llmops_gateway_time_to_first_token_seconds_count", **labels) == streamed
        assert _sample(samples, "llmops_gateway_traffic_weight", **labels) == 0.5

    assert len(records) == 62  # the broken callback before it did not stop this one
    done = records[0]
    assert (done.status, done.model, done.endpoint) == (200, "support-assistant", "completions")
    assert done.request["prompt"] == "hi" and done.response["choices"][0]["text"].startswith("from ")
    assert done.output_tokens == 3 and done.duration_s > 0
    assert records[-1].ttft_s is not None and 0 < records[-1].ttft_s <= records[-1].duration_s
    assert records[-2].status == 400 and "`seed`" in records[-2].error


def test_stale_connection_server_is_a_real_http_server():
    """The stale-connection test means something: without the gateway, httpx itself meets the dropped request."""
    backend = StaleKeepAliveServer()
    with backend.running() as url, httpx.Client(base_url=url) as client:
        assert client.post("/v1/completions", json={"model": "m"}).status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/v1/completions", json={"model": "m"})
