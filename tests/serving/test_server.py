"""Model serving with real processes: adapter merge, ``transformers serve`` behind the gateway, cleanup of
every process and port however the server's life ends, and the vLLM manifest against the Kubernetes schema."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psutil
import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

from llmops.serving.client import OpenAIClient, ServingError
from llmops.serving.gateway_requests import Refused, apply_limits, json_depth, parse_body
from llmops.serving.merge import MARKER, merge_adapter
from llmops.serving.server import ServerStartError, group_alive, port_is_free, serve_model
from llmops.serving.vllm import max_lora_rank, vllm_args
from llmops.tokenizer import build_tokenizer, chat_messages, load_tokenizer

SENTENCES = [
    f"Order {n} for {who} was {state} on day {n % 28 + 1}; the refund of {n}.99 is {pace}."
    for n in range(120)
    for who, state, pace in [("Sam", "shipped", "on its way"), ("[PERSON]", "returned", "late"), ("you", "lost", "due")]
]
FAST_START = {"startup_timeout_s": 90.0, "stop_grace_s": 10.0}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A random-init two-layer Llama with the project tokenizer, saved as one model directory."""
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("model") / "tiny"
    build_tokenizer(SENTENCES, out, vocab_size=600)
    tok = load_tokenizer(out)
    config = LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
        max_position_embeddings=1024, vocab_size=len(tok), tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def adapter(tiny_model, tmp_path_factory) -> Path:
    """A LoRA adapter that really changes the model (random B, not PEFT's zero init)."""
    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    out = tmp_path_factory.mktemp("adapter") / "lora"
    get_peft_model(base, config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def merged(tiny_model, adapter, tmp_path_factory) -> Path:
    return merge_adapter(tiny_model, adapter, tmp_path_factory.mktemp("merged") / "candidate")


def _logits(model, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(ids).logits


def _ports_of(pid: int) -> list[int]:
    return sorted(c.laddr.port for c in psutil.Process(pid).net_connections("tcp") if c.status == psutil.CONN_LISTEN)


def _group_members(pgid: int) -> list[int]:
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid:
                members.append(proc.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def _assert_cleaned_up(pgid: int, ports: list[int]) -> None:
    assert not group_alive(pgid), f"process group {pgid} still has {_group_members(pgid)}"
    assert _group_members(pgid) == []
    assert ports and all(port_is_free(p) for p in ports), ports


# ---- merge --------------------------------------------------------------------------------------------------


def test_merged_model_matches_base_plus_adapter(tiny_model, adapter, merged):
    ids = load_tokenizer(tiny_model)("Order 7 for Sam was shipped", return_tensors="pt").input_ids
    base_logits = _logits(AutoModelForCausalLM.from_pretrained(tiny_model), ids)
    with_adapter = _logits(PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), adapter), ids)
    merged_logits = _logits(AutoModelForCausalLM.from_pretrained(merged), ids)
    assert not (merged / "adapter_config.json").exists()  # a plain model: what transformers serve can load
    assert (merged_logits - with_adapter).abs().max() < 1e-4
    assert (base_logits - with_adapter).abs().max() > 1e-2  # the adapter matters, so the comparison means something
    # no tokenizer in the adapter directory: the base's is used
    assert AutoTokenizer.from_pretrained(merged).get_vocab() == load_tokenizer(tiny_model).get_vocab()
    assert json.loads((merged / MARKER).read_text())["adapter"] == str(adapter)


def test_merge_is_cached_until_base_or_adapter_changes(tiny_model, adapter, tmp_path):
    out = tmp_path / "candidate"
    merge_adapter(tiny_model, adapter, out)
    weights = out / "model.safetensors"
    first = weights.stat().st_mtime_ns
    assert merge_adapter(tiny_model, adapter, out) == out
    assert weights.stat().st_mtime_ns == first  # same inputs: reused, not rewritten

    # the adapter now carries its own tokenizer: a different input, so a new merge, using that tokenizer
    changed = tmp_path / "lora-with-tokenizer"
    changed.mkdir()
    for f in adapter.iterdir():
        (changed / f.name).write_bytes(f.read_bytes())
    tok = load_tokenizer(tiny_model)
    tok.model_max_length = 777
    tok.save_pretrained(changed)
    merge_adapter(tiny_model, changed, out)
    assert AutoTokenizer.from_pretrained(out).model_max_length == 777
    assert json.loads((out / MARKER).read_text())["adapter"] == str(changed)
    # no staging left; the replaced merge waits in _retired/ (llmops.publish's grace period)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_retired", "candidate", "lora-with-tokenizer"]


# ---- gateway policy (no server needed) -------------------------------------------------------------------------


def test_gateway_limits_on_request_bodies():
    limits = {"max_tokens": 32, "max_prompt_chars": 100}
    body = apply_limits("completions", {"prompt": "hi", "generation_config": "{}", "best_of": 9}, **limits)
    assert body == {"prompt": "hi", "max_tokens": 32}  # cap filled in; unknown fields never reach the backend
    chat = {"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 32}
    assert apply_limits("chat/completions", chat, **limits) == chat  # at the cap is fine
    streamed = apply_limits("completions", {"prompt": "hi", "stream": True, "n": 1, "temperature": 0}, **limits)
    assert streamed == {"prompt": "hi", "stream": True, "temperature": 0.0, "max_tokens": 32}
    refusals = [
        ("completions", {"prompt": "hi", "max_tokens": 33}, 400, "max_tokens_exceeded"),
        ("completions", {"prompt": "hi", "max_completion_tokens": 33}, 400, "max_tokens_exceeded"),
        ("completions", {"prompt": "hi", "max_tokens": 8, "max_completion_tokens": 9}, 400, "invalid_max_tokens"),
        ("chat/completions", {"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 99}, 400,
         "max_tokens_exceeded"),
        ("completions", {"prompt": "hi", "max_tokens": 0}, 400, "invalid_request"),
        ("completions", {"prompt": "hi", "max_tokens": "8"}, 400, "invalid_request"),
        ("completions", {"prompt": "hi", "max_tokens": True}, 400, "invalid_request"),
        ("completions", {"prompt": ["x" * 60, "y" * 41]}, 413, "prompt_too_long"),
        ("chat/completions", {"messages": [{"role": "system", "content": "x" * 50},
                                           {"role": "user", "content": [{"type": "text", "text": "y" * 51}]}]},
         413, "prompt_too_long"),
        ("completions", {"prompt": [1, 2, 3]}, 400, "invalid_request"),
        ("completions", {"prompt": ["", ""]}, 400, "empty_prompt"),
        ("chat/completions", {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, 400,
         "invalid_request"),
        ("chat/completions", {"messages": [{"role": "tool", "content": "hi"}]}, 400, "invalid_request"),
        ("chat/completions", {"messages": []}, 400, "invalid_request"),
        ("completions", {"prompt": "hi", "n": 4}, 400, "n_unsupported"),
        ("completions", {"prompt": "hi", "n": True}, 400, "invalid_request"),
        ("completions", {"prompt": "hi", "stream": "yes"}, 400, "invalid_request"),
        ("completions", {"prompt": "hi", "stop": ["a", "b", "c", "d", "e"]}, 400, "invalid_request"),
        ("completions", {"prompt": "hi", "temperature": float("nan")}, 400, "invalid_request"),
        ("completions", {"prompt": "hi", "user": 7}, 400, "invalid_request"),
    ]  # fmt: skip
    for route, request, status, code in refusals:
        with pytest.raises(Refused) as refused:
            apply_limits(route, request, **limits)
        assert (refused.value.status, refused.value.code) == (status, code), request
        assert refused.value.message


def test_json_depth_is_measured_outside_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[{{{"}]}') == 3
    assert json_depth(rb'["\\", ["\"]"]]') == 2  # an escaped backslash, then an escaped quote inside strings
    with pytest.raises(Refused, match="deeper than 32"):
        parse_body(b"[" * 33 + b"]" * 33)
    nested = parse_body(b'{"a": ' + b"[" * 31 + b"]" * 31 + b"}")["a"]
    for _ in range(31):
        nested = nested[0] if nested else None
    assert nested is None


# ---- the local server -------------------------------------------------------------------------------------------


def test_serves_the_merged_model_behind_the_gateway(merged, tmp_path):
    with serve_model(merged, model_name="candidate", max_tokens=32, max_prompt_chars=2000, request_timeout_s=30.0,
                     max_in_flight=3, max_queued=5, log_dir=tmp_path, **FAST_START) as endpoint:  # fmt: skip
        pgid = endpoint.pgid
        assert len(_group_members(pgid)) >= 2  # the model server and the gateway
        gateway_argv = next(psutil.Process(p).cmdline() for p in _group_members(pgid) if p != endpoint.backend_pid)
        assert " --max-in-flight 3 --max-queued 5" in " ".join(gateway_argv)  # the load bounds reach the gateway
        backend_ports = _ports_of(endpoint.backend_pid)
        gateway_port = urlparse(endpoint.base_url).port
        assert gateway_port not in backend_ports
        with endpoint.client() as client:
            assert client.health()
            assert client.models() == ["candidate"]
            text = client.complete("Order 7 for Sam was", max_tokens=8)
            assert isinstance(text.text, str) and text.text.strip()
            assert 1 <= text.usage.completion_tokens <= 8 and text.model == "candidate"
            assert text.finish_reason in {"stop", "length"}
            messages = chat_messages("Be kind.", "Where is my order?", None, None)
            reply = client.chat(messages, max_tokens=8)
            assert isinstance(reply.text, str) and 1 <= reply.usage.completion_tokens <= 8

            with pytest.raises(ServingError) as over_cap:
                client.complete("Order 7", max_tokens=33)
            assert over_cap.value.status_code == 400 and "cap of 32" in over_cap.value.message
            with pytest.raises(ServingError) as too_long:
                client.chat([{"role": "user", "content": "x" * 2001}], max_tokens=4)
            assert too_long.value.status_code == 413 and "at most 2000" in too_long.value.message
            # transformers serve would 500 on this field; the gateway never forwards it
            assert client.complete("Order 7", max_tokens=2, generation_config="{not json").usage.completion_tokens <= 2
            with pytest.raises(ServingError) as unknown:
                OpenAIClient(endpoint.base_url, "someone-else").complete("hi", max_tokens=2)
            assert unknown.value.status_code == 404

        root = endpoint.base_url.removesuffix("/v1")
        no_limit = httpx.post(f"{endpoint.base_url}/completions", json={"prompt": "Order 7 for"}, timeout=30)
        assert no_limit.status_code == 200 and no_limit.json()["usage"]["completion_tokens"] <= 32  # the cap
        for route in ("/load_model", "/reset", "/v1/responses"):  # the backend's other routes stay unreachable
            assert httpx.post(root + route, json={"model": "x"}).status_code in (404, 405), route
    _assert_cleaned_up(pgid, [gateway_port, *backend_ports])


def test_timeout_dead_backend_and_exception_in_the_block_clean_up(merged, tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with serve_model(merged, max_tokens=200, request_timeout_s=0.05, log_dir=tmp_path, **FAST_START) as endpoint:
            pgid, ports = endpoint.pgid, [urlparse(endpoint.base_url).port, *_ports_of(endpoint.backend_pid)]
            with endpoint.client() as client:
                with pytest.raises(ServingError) as slow:
                    client.complete("Order 7 for Sam was " * 20, max_tokens=200)
                assert slow.value.status_code == 504
                os.kill(endpoint.backend_pid, signal.SIGKILL)  # the model server dies under us
                deadline = time.monotonic() + 10
                while client.health() and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert not client.health()
                with pytest.raises(ServingError) as dead:
                    client.complete("Order 7", max_tokens=2)
                assert dead.value.status_code == 502
            raise RuntimeError("boom")
    _assert_cleaned_up(pgid, ports)


def test_startup_timeout_cleans_up(merged, tmp_path):
    with pytest.raises(ServerStartError, match=r"not healthy within 0.5s") as failed:
        with serve_model(merged, startup_timeout_s=0.5, log_dir=tmp_path):
            pytest.fail("the block must not run")
    _assert_cleaned_up(failed.value.pgid, failed.value.ports)


def test_model_that_cannot_load_fails_with_its_log(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "no-such-architecture"}))
    with pytest.raises(ServerStartError, match="model server exited with code") as failed:
        with serve_model(broken, log_dir=tmp_path / "logs", **FAST_START):
            pytest.fail("the block must not run")
    assert "\ncause: ValueError: " in str(failed.value)  # the log's exception line leads the tail in the message
    assert failed.value.log_path == tmp_path / "logs" / "model-server.log"
    _assert_cleaned_up(failed.value.pgid, failed.value.ports)


def test_killed_owner_takes_the_server_down(merged, tmp_path):
    """SIGKILL skips every cleanup in the owning process; the gateway notices and stops the group."""
    script = textwrap.dedent("""
        import sys, time
        from llmops.serving.server import serve_model
        with serve_model(sys.argv[1], log_dir=sys.argv[2], startup_timeout_s=90) as endpoint:
            print(endpoint.pgid, endpoint.base_url, flush=True)
            time.sleep(300)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script, str(merged), str(tmp_path)], stdout=subprocess.PIPE,
                             text=True)  # fmt: skip
    try:
        pgid_text, base_url = owner.stdout.readline().split()
    finally:
        owner.kill()
        owner.wait()
    pgid = int(pgid_text)
    deadline = time.monotonic() + 20
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    _assert_cleaned_up(pgid, [urlparse(base_url).port])


# ---- kubernetes: vLLM with the LoRA adapter ----------------------------------------------------------------------


# the manifests that run these command lines: tests/serving/test_manifests.py


def test_vllm_args_rank_and_adapter_checks():
    assert [max_lora_rank(r) for r in (1, 4, 8, 16, 17, 512)] == [1, 8, 8, 16, 32, 512]
    with pytest.raises(ValueError, match="between 1 and 512"):
        max_lora_rank(1024)
    with pytest.raises(ValueError, match="must not contain"):
        vllm_args("/m", "a,b", "/a", max_model_len=64, max_tokens=8)
    with pytest.raises(ValueError, match="at least 2"):
        vllm_args("/m", "a", "/a", max_model_len=64, max_tokens=8, max_loras=1)
    with pytest.raises(ValueError, match="or neither"):
        vllm_args("/m", "a", max_model_len=64, max_tokens=8)
    assert "--lora-modules" not in vllm_args("/m", max_model_len=64, max_tokens=8)
    with pytest.raises(ValueError, match="leave room"):
        vllm_args("/m", "a", "/a", max_model_len=64, max_tokens=64)
