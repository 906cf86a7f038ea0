"""The serving backends behind one interface: ``vllm`` (adapters by name in one pool) and ``local`` (real CPU
``transformers serve`` processes, one per version, behind the real gateway)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import httpx
import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from llmops.config import ServingSettings
from llmops.monitoring.inference_log import read_window
from llmops.serving import gateway
from llmops.serving.backends.base import BackendError, FileTrafficStore, ServingBackend, read_gateway_metrics
from llmops.serving.backends.local import LocalBackend
from llmops.serving.backends.vllm import VLLMBackend
from llmops.serving.server import free_port, group_alive, port_is_free
from llmops.serving.traffic import Route, Target, TrafficTable, write_table
from tests.serving.upstream import Upstream, serve_in_thread
from tests.training.conftest import tiny_model  # noqa: F401 - the session's tiny base model, a fixture

V6, V7 = "support-assistant-v6", "support-assistant-v7"
LIMITS = {"max_tokens": 16, "max_prompt_chars": 2000, "request_timeout_s": 30.0}
SERVING = ServingSettings(startup_timeout_s=90, **LIMITS)  # LocalBackend's limits in the tests


def _adapter_dir(path: Path) -> str:
    """A directory vLLM would take for an adapter (the stand-in checks for its config)."""
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text('{"r": 4}')
    return str(path)


def test_vllm_backend_loads_routes_and_unloads_adapters_by_name(upstream, tmp_path):
    """The weights go to the file the real gateway follows, and the gateway routes the stable name to the
    adapters' names in the pool (the real upstream app stands in for the pool and for vLLM's LoRA routes)."""
    state, pool_url = upstream
    vllm = Upstream()
    traffic_file = tmp_path / "traffic.json"
    gates_route = Route(stable=Target(model="base"))  # another name the same sidecar serves
    write_table(traffic_file, TrafficTable(routes={"support-assistant": Route(stable=Target(model="base")),
                                                   "candidate": gates_route}))  # fmt: skip
    app = gateway.build_app(pool_url, traffic_file=traffic_file, traffic_poll_s=0.05, **LIMITS)
    v6, v7 = _adapter_dir(tmp_path / "v6"), _adapter_dir(tmp_path / "v7")
    with serve_in_thread(app) as gateway_url, serve_in_thread(vllm.app()) as vllm_url:
        backend = VLLMBackend(vllm_url, stable_name="support-assistant", gateway_url=gateway_url,
                              traffic=FileTrafficStore(traffic_file))  # fmt: skip
        assert isinstance(backend, ServingBackend)
        backend.load_version(V6, v6)
        backend.load_version(V7, v7)
        assert vllm.lora_calls == [("load", {"lora_name": V6, "lora_path": v6}),
                                   ("load", {"lora_name": V7, "lora_path": v7})]  # fmt: skip
        with pytest.raises(BackendError, match="never reloaded under an existing name"):
            backend.load_version(V7, v7)
        assert len(vllm.lora_calls) == 2  # refused before vLLM was asked: no reload, no load_inplace, ever

        backend.set_weights(V6, V7, 1.0)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            answer = httpx.post(f"{gateway_url}/v1/completions", json={"model": "support-assistant", "prompt": "hi"})
            if answer.headers.get("X-Llmops-Version") == V7:
                break
            time.sleep(0.05)
        assert answer.status_code == 200 and state.seen[-1]["model"] == V7  # the pool got the adapter's name
        routes = json.loads(traffic_file.read_text())["routes"]
        assert routes["support-assistant"]["canary_weight"] == 1.0
        assert Route.model_validate(routes["candidate"]) == gates_route  # the other route is left alone
        metrics = backend.read_metrics()
        assert metrics[("canary", V7)].requests["2xx"] >= 1

        with pytest.raises(BackendError, match="still receives"):
            backend.unload_version(V7)  # traffic first, then unload
        backend.set_weights(V6)
        backend.unload_version(V7)
        assert vllm.lora_calls[-1] == ("unload", {"lora_name": V7}) and vllm.adapters == {V6: v6}
        with pytest.raises(BackendError, match="not loaded"):
            backend.set_weights(V7)
        backend.unload_version(V7)  # already gone: nothing sent
        assert len(vllm.lora_calls) == 3
        backend.close()


def test_vllm_backend_fails_closed(tmp_path):
    forgetful = Upstream(forget_loads=True)
    with serve_in_thread(forgetful.app()) as vllm_url:
        backend = VLLMBackend(vllm_url, stable_name="m", gateway_url="http://127.0.0.1:9",
                              traffic=FileTrafficStore(Path("/nonexistent/traffic.json")))  # fmt: skip
        with pytest.raises(BackendError, match="does not list it"):
            backend.load_version(V7, _adapter_dir(tmp_path / "v7"))
        with pytest.raises(BackendError, match=r"answered 404: .*No adapter found for /nonexistent/v6"):
            backend.load_version(V6, "/nonexistent/v6")
        backend.close()

    unreachable = VLLMBackend(f"http://127.0.0.1:{free_port()}", stable_name="m", gateway_url="http://127.0.0.1:9",
                              traffic=FileTrafficStore(Path("/nonexistent/traffic.json")))  # fmt: skip
    with pytest.raises(BackendError, match="unreachable"):
        unreachable.load_version(V7, "/models/adapters/v7")
    with pytest.raises(BackendError, match="metrics"):
        unreachable.read_metrics()  # nothing listens on port 9


def _adapter(base: Path, out: Path, seed: int) -> Path:
    """A LoRA adapter that really changes the model (random B, not PEFT's zero init)."""
    torch.manual_seed(seed)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), config).save_pretrained(out)
    return out


@pytest.mark.slow
def test_local_backend_serves_versions_for_real_behind_the_gateway(tiny_model, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("LLMOPS_GATEWAY_ADMIN_TOKEN", "local-backend-test-token")
    adapters = {v: _adapter(tiny_model, tmp_path / v, seed) for v, seed in ((V6, 1), (V7, 2))}
    lake = f"file://{tmp_path}/lake"
    with LocalBackend(tiny_model, tmp_path / "work", SERVING, stable_name="support-assistant",
                      inference_log=lake) as backend:  # fmt: skip
        for version, adapter in adapters.items():
            backend.load_version(version, str(adapter))
        with pytest.raises(BackendError, match="existing name"):
            backend.load_version(V7, str(adapters[V7]))
        backend.set_weights(V6, V7, 0.5)
        versions = []
        with httpx.Client(base_url=backend.gateway_url, timeout=30) as client:
            for i in range(30):
                answer = client.post("/v1/completions", json={"model": "support-assistant", "prompt": "Order 7 for",
                                                              "max_tokens": 2, "user": f"caller-{i}"})  # fmt: skip
                assert answer.status_code == 200, answer.text
                assert answer.json()["model"] == "support-assistant"
                versions.append(answer.headers["X-Llmops-Version"])
            unauthenticated = client.put("/admin/traffic", json={"routes": {}})
        assert unauthenticated.status_code == 401
        assert set(versions) == {V6, V7}
        metrics = read_gateway_metrics(backend.gateway_url, "support-assistant")
        assert metrics[("stable", V6)].requests["2xx"] == versions.count(V6)
        assert metrics[("canary", V7)].requests["2xx"] == versions.count(V7)
        assert metrics[("canary", V7)].output_tokens >= versions.count(V7)  # every answer generated something

        with pytest.raises(BackendError, match="still receives"):
            backend.unload_version(V6)
        backend.set_weights(V7)  # promote
        v6_pgid = backend._versions[V6][0].pgid
        backend.unload_version(V6)
        assert not group_alive(v6_pgid)
        answer = httpx.post(f"{backend.gateway_url}/v1/completions", json={"prompt": "Order 7", "max_tokens": 2})
        assert answer.status_code == 200 and answer.headers["X-Llmops-Version"] == V7
        gateway_port, v7_pgid = int(backend.gateway_url.rsplit(":", 1)[1]), backend._versions[V7][0].pgid
    assert port_is_free(gateway_port) and not group_alive(v7_pgid)  # leaving the block stopped everything
    # the front gateway logged every request (llmops_drift's input); its clean stop wrote the open batch
    logged = read_window(lake, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert sorted(logged["version"].to_pylist()) == sorted([*versions, V7])
