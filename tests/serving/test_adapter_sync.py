"""The gateway's adapter sync (``--sync-adapters``, llmops.serving.adapter_sync) over real HTTP: the real gateway
follows its traffic file and keeps the stand-in vLLM (tests.serving.upstream, vLLM's documented LoRA routes)
holding the adapters the table lists; its state is read back from ``GET /adapters`` and ``/metrics``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from llmops.serving import gateway
from llmops.serving.server import free_port
from llmops.serving.traffic import Route, Target, TrafficTable, write_table
from tests.serving.test_gateway import _metrics, _sample
from tests.serving.upstream import Upstream, serve_in_thread

STABLE = "support-assistant"
V6, V7, V8, V9 = (f"support-assistant-v{n}" for n in (6, 7, 8, 9))
LIMITS = {"max_tokens": 16, "max_prompt_chars": 2000, "request_timeout_s": 5.0, "traffic_poll_s": 0.02}


def _adapter(path: Path) -> str:
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text('{"r": 4}')
    return str(path)


def _table(stable: str, adapters: dict[str, str], canary: str | None = None) -> TrafficTable:
    route = Route(stable=Target(model=stable), canary=Target(model=canary) if canary else None,
                  canary_weight=0.1 if canary else 0.0)  # fmt: skip
    return TrafficTable(routes={STABLE: route}, adapters=adapters)


def _until(check: Callable[[], object], timeout_s: float = 5.0) -> object:
    deadline = time.monotonic() + timeout_s
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def _report(root: str) -> dict:
    answer = httpx.get(f"{root}/adapters")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _states(root: str) -> dict[str, str]:
    return {name: status["state"] for name, status in _report(root)["adapters"].items()}


def _gateway(vllm_url: str, table_file: Path, **kwargs):
    return gateway.build_app(vllm_url, traffic_file=table_file, sync_adapters=True, **{**LIMITS, **kwargs})


def test_listed_adapters_are_loaded_once_and_dropped_ones_unloaded(tmp_path):
    """At start a stray adapter (neither listed nor routed) goes and a served listed one is kept as it is; later
    table changes load what they add, never reload a name, and unload a dropped adapter once nothing routes to it."""
    vllm = Upstream(adapters={"stray": "/models/stray", V6: "/models/adapters/v6"})
    table_file = tmp_path / "traffic.json"
    v7, v8 = _adapter(tmp_path / "v7"), _adapter(tmp_path / "v8")
    write_table(table_file, _table(V6, {V6: "/models/adapters/v6"}))
    with serve_in_thread(vllm.app()) as vllm_url, serve_in_thread(_gateway(vllm_url, table_file)) as root:
        assert _until(lambda: _states(root) == {V6: "loaded"})
        assert vllm.lora_calls == [("unload", {"lora_name": "stray"})]  # V6 was served already: not reloaded

        write_table(table_file, _table(V6, {V6: "/models/adapters/v6", V7: v7}))
        assert _until(lambda: _states(root) == {V6: "loaded", V7: "loaded"})
        assert vllm.lora_calls[1:] == [("load", {"lora_name": V7, "lora_path": v7})]
        assert _report(root)["served"] == [V6, V7] and _report(root)["error"] is None

        write_table(table_file, _table(V6, {V7: v7, V8: v8}, canary=V7))  # V6 unlisted but still the stable
        assert _until(lambda: _states(root) == {V7: "loaded", V8: "loaded"})
        assert vllm.lora_calls[2:] == [("load", {"lora_name": V8, "lora_path": v8})]
        assert V6 in vllm.adapters  # routed: never unloaded under its traffic

        write_table(table_file, _table(V7, {V7: v7}))  # promoted: V6 no longer routed, V8 dropped
        assert _until(lambda: V6 not in vllm.adapters and V8 not in vllm.adapters)
        assert sorted(vllm.lora_calls[3:], key=str) == [("unload", {"lora_name": V6}), ("unload", {"lora_name": V8})]
        assert _until(lambda: _report(root)["served"] == [V7])
        assert all("load_inplace" not in body for _, body in vllm.lora_calls)
        samples = _metrics(root)
        assert _sample(samples, "llmops_gateway_adapter_state", adapter=V7, state="loaded") == 1
        assert _sample(samples, "llmops_gateway_adapter_state", adapter=V8, state="loaded") == 0  # gone with it


def test_a_failing_load_is_reported_retried_and_never_blocks_the_others(tmp_path, caplog):
    vllm = Upstream()
    table_file = tmp_path / "traffic.json"
    v7 = _adapter(tmp_path / "v7")
    write_table(table_file, _table("base", {V7: v7, V9: "/models/adapters/missing-v9"}))
    with caplog.at_level(logging.ERROR, "llmops.gateway.adapters"), serve_in_thread(vllm.app()) as vllm_url, \
            serve_in_thread(_gateway(vllm_url, table_file, adapter_resync_s=0.2)) as root:  # fmt: skip
        assert _until(lambda: _states(root) == {V7: "loaded", V9: "failed"})
        failed = _report(root)["adapters"][V9]
        assert failed["path"] == "/models/adapters/missing-v9"
        assert "answered 404" in failed["error"]
        assert "No adapter found for /models/adapters/missing-v9" in failed["error"]
        assert _until(lambda: _sample(_metrics(root), "llmops_gateway_adapter_errors_total", adapter=V9,
                                      operation="load") >= 2)  # retried at the next pass  # fmt: skip
        samples = _metrics(root)
        assert _sample(samples, "llmops_gateway_adapter_state", adapter=V9, state="failed") == 1
        assert _sample(samples, "llmops_gateway_adapter_state", adapter=V7, state="loaded") == 1
        assert httpx.get(f"{root}/health").status_code == 200  # a bad adapter does not take the pod out
    assert f"adapter {V9} from /models/adapters/missing-v9 not loaded" in caplog.text


def test_health_waits_for_the_first_sync_only(tmp_path):
    """A starting pod is not ready until its first sync tried the listed adapters; an adapter listed later (a
    candidate, with a route under its own name as the deploy step writes it) loads while the pod stays ready."""
    vllm = Upstream(load_delay_s=1.0)
    table_file = tmp_path / "traffic.json"
    v6, v7 = _adapter(tmp_path / "v6"), _adapter(tmp_path / "v7")
    write_table(table_file, _table(V6, {V6: v6}))
    with serve_in_thread(vllm.app()) as vllm_url, serve_in_thread(_gateway(vllm_url, table_file)) as root:
        health = httpx.get(f"{root}/health")
        assert health.status_code == 503 and "the adapter sync has not reached vLLM yet" in health.text
        assert _until(lambda: httpx.get(f"{root}/health").status_code == 200)
        assert vllm.adapters == {V6: v6}  # ready only once its routed adapter was loaded
        candidate = _table(V6, {V6: v6, V7: v7})
        write_table(table_file, candidate.with_routes({**candidate.routes, V7: Route(stable=Target(model=V7))}))
        assert _until(lambda: _states(root).get(V7) == "pending")
        assert httpx.get(f"{root}/health").status_code == 200
        assert _until(lambda: _states(root)[V7] == "loaded")


def test_an_unreachable_vllm_and_a_name_served_from_another_directory_are_reported(tmp_path):
    table_file = tmp_path / "traffic.json"
    write_table(table_file, _table("base", {V7: _adapter(tmp_path / "v7")}))
    down = f"http://127.0.0.1:{free_port()}"
    with serve_in_thread(_gateway(down, table_file)) as root:
        assert _until(lambda: _report(root)["error"])
        assert "unreachable for GET /v1/models" in _report(root)["error"] and _states(root) == {V7: "pending"}
        assert _sample(_metrics(root), "llmops_gateway_adapter_errors_total", adapter="", operation="list") >= 1

    vllm = Upstream(adapters={V7: "/models/adapters/v7-old"})
    with serve_in_thread(vllm.app()) as vllm_url, serve_in_thread(_gateway(vllm_url, table_file)) as root:
        assert _until(lambda: _states(root) == {V7: "failed"})
        error = _report(root)["adapters"][V7]["error"]
        assert "vLLM serves support-assistant-v7 from /models/adapters/v7-old" in error
        assert vllm.lora_calls == []  # never reloaded under its name


def test_without_the_option_the_gateway_leaves_vllm_alone(upstream, tmp_path):
    vllm = Upstream()
    table_file = tmp_path / "traffic.json"
    write_table(table_file, _table("base", {V7: _adapter(tmp_path / "v7")}))
    with serve_in_thread(vllm.app()) as vllm_url:
        app = gateway.build_app(vllm_url, traffic_file=table_file, **LIMITS)
        with serve_in_thread(app) as root:
            assert httpx.get(f"{root}/adapters").status_code == 404
            assert httpx.get(f"{root}/health").status_code == 200
            time.sleep(0.2)
    assert vllm.lora_calls == []
    assert gateway.gateway_args("http://v", model="m", backend_model="b", host="h", port=1, max_tokens=1,
                                max_prompt_chars=1, request_timeout_s=1, sync_adapters=True)[-1] == "--sync-adapters"


@pytest.mark.parametrize("adapters", [{V7: "relative/v7"}, {"": "/models/v7"}])
def test_the_table_refuses_adapters_without_an_absolute_path_or_a_name(adapters):
    with pytest.raises(ValueError, match="need a name and an absolute path"):
        TrafficTable(routes={STABLE: Route(stable=Target(model="base"))}, adapters=adapters)
    assert TrafficTable.model_validate({"routes": {STABLE: {"stable": {"model": "base"}}}}).adapters == {}
