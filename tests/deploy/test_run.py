"""The deploy step (llmops.deploy.run) and the on-call CLI on a real registry, real servers and real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmops import cli
from llmops.candidates import adapter_cache
from llmops.config import load_settings, settings
from llmops.deploy import run, state
from llmops.deploy.outcome import REASON_TAG
from llmops.serving.backends.adapter_pool import AdapterPoolBackend
from llmops.serving.backends.base import BackendError
from llmops.serving.backends.two_deployments import TwoDeploymentsBackend
from llmops.serving.backends.vllm import VLLMBackend
from llmops.training import registry, tracking
from llmops.training.lineage import BASE_HASH_TAG, BASE_PATH_TAG
from tests.deploy.conftest import register
from tests.serving.test_backends import _adapter
from tests.training.conftest import DS, tiny_model  # noqa: F401 - the session's tiny base model, a fixture

ROOT = Path(__file__).parents[2]


def _tags(version: int) -> dict[str, str]:
    return tracking.client().get_model_version(settings().tracking.registered_model, str(version)).tags


def _step(deploy_env: Path, *args: str) -> list[str]:
    return ["--lake-root", f"file://{deploy_env / 'lake'}", "--ds", DS, *args]


def test_dry_run_prints_each_path_and_changes_nothing(deploy_env, capsys):
    assert run.main(_step(deploy_env, "--dry-run")) == 2  # nothing registered: a clear error, exit 2
    assert "no version is tagged passed" in capsys.readouterr().err
    first = register(None, "/models/base", "aaaa", status="passed")
    assert run.main(_step(deploy_env, "--dry-run", "--steps", "10,100", "--window-s", "2")) == 0
    out = capsys.readouterr().out
    assert f"candidate   v{first} served as support-assistant-v{first}" in out
    assert "served as support-assistant-base" in out and "first deployment" in out
    assert "10% -> 100%, analysis window 2 s" in out
    client, name = tracking.client(), settings().tracking.registered_model
    client.set_registered_model_alias(name, registry.CHAMPION, str(first))
    same = register(None, "/models/base", "aaaa", status="passed")
    other = register(None, "/models/base-rebuilt", "bbbb", status="passed")  # newest passed: --version passed
    assert run.main(_step(deploy_env, "--dry-run", "true")) == 0
    out = capsys.readouterr().out
    assert f"v{other} served as support-assistant-v{other}" in out and "two deployments: candidate base" in out
    assert run.main(_step(deploy_env, "--version", str(same), "--dry-run")) == 0
    assert "adapter canary: same base /models/base" in capsys.readouterr().out
    assert not (deploy_env / "lake" / "reports" / "deploy" / "rollouts").exists()  # no state, no servers
    assert [_tags(v)["llmops.status"] for v in (same, other)] == ["passed", "passed"]
    summary = json.loads((deploy_env / "lake" / "reports" / "deploy" / f"ds={DS}" / "summary.json").read_text())
    assert summary["status"] == run.DRY_RUN and summary["candidate"] == same
    with pytest.raises(SystemExit):
        run.main(_step(deploy_env, "--steps", "50,25"))  # falling steps: a usage error


def test_a_candidate_on_another_base_gets_a_pool_of_its_own_in_kubernetes(monkeypatch):
    """The two-Deployment path's wiring: in kubernetes the candidate's recorded base and its adapter build its pool
    (tests/serving/test_two_deployments.py drives that backend); the vllm backend outside kubernetes has no
    Deployments to apply and refuses; a candidate on the champion's base stays an adapter in the one pool, loaded
    through the pool's traffic table (tests/serving/test_adapter_pool.py), and outside kubernetes through vLLM's
    own API."""
    champion = {"version": 7, "tags": {BASE_PATH_TAG: "/models/base/a", BASE_HASH_TAG: "aaaa"}}
    row = {"version": 8, "source": "runs:/r8/adapter", "run_id": "r8",
           "tags": {BASE_PATH_TAG: "/models/base/b", BASE_HASH_TAG: "bbbb"}}  # fmt: skip
    assert run.rollout_path(row, champion)[0] == run.TWO_DEPLOYMENTS
    monkeypatch.setattr(adapter_cache, "download_adapter", lambda source, run_id: Path("/models/adapters") / run_id)
    cfg = load_settings("kubernetes", environ={"LLMOPS__DEPLOY__KUBERNETES__HTTP_GATEWAY_URL": "http://gw.invalid"})
    with run.build_backend(cfg, champion["tags"], ("support-assistant-v8", row)) as backend:
        assert isinstance(backend, TwoDeploymentsBackend)
        assert (backend.canary, backend.canary_base, backend.canary_adapter) == (
            "support-assistant-v8", "/models/base/b", "/models/adapters/r8")  # fmt: skip
    with run.build_backend(cfg, champion["tags"]) as backend:
        assert isinstance(backend, AdapterPoolBackend)
    outside = load_settings("kubernetes", environ={"LLMOPS__RUNTIME__KIND": "local"})
    with run.build_backend(outside, champion["tags"]) as backend:
        assert isinstance(backend, VLLMBackend)
    with pytest.raises(BackendError, match="in the kubernetes runtime only"):
        run.build_backend(outside, champion["tags"], ("support-assistant-v8", row))
    unrecorded = {**row, "tags": {BASE_HASH_TAG: "bbbb"}}
    with pytest.raises(BackendError, match="version 8 records no base model"):
        run.build_backend(cfg, champion["tags"], ("support-assistant-v8", unrecorded))


def test_too_few_held_out_items_for_the_quality_test_is_an_error(deploy_env, monkeypatch, capsys):
    """The fixture lake holds 6 test items; a quality test needing 10 could only end "insufficient data": the
    step refuses to start (exit 2, nothing served, the registry unchanged) and says which setting to change."""
    version = register(None, "/models/base", "aaaa", status="passed")
    monkeypatch.setenv("LLMOPS__DEPLOY__ANALYSIS__QUALITY_PROMPTS_PER_STEP", "10")
    monkeypatch.setenv("LLMOPS__DEPLOY__ANALYSIS__QUALITY_MIN_PROMPTS", "10")
    settings.cache_clear()
    assert run.main(_step(deploy_env)) == 2
    err = capsys.readouterr().err
    assert "quality_min_prompts=10 held-out test items; the gold test split up to" in err and "has 6" in err
    assert not (deploy_env / "lake" / "reports" / "deploy" / "rollouts").exists()
    assert _tags(version)["llmops.status"] == "passed"


def test_the_load_prompts_and_quality_references_are_the_held_out_test_items(deploy_env, monkeypatch):
    prompts, references = run.rollout_inputs(settings(), f"file://{deploy_env / 'lake'}", DS)
    assert len(references) == 6 and prompts == [item.prompt for item in references]
    assert all(item.reference and item.instruction in item.prompt for item in references)
    monkeypatch.setenv("LLMOPS__DEPLOY__ANALYSIS__QUALITY_PROMPTS_PER_STEP", "0")
    settings.cache_clear()
    assert run.rollout_inputs(settings(), f"file://{deploy_env / 'lake'}", DS) == (prompts, None)


def _kill_server_of(version_dir: str, deadline_s: float = 120) -> None:
    """SIGKILL the process group of the model server serving the merged model in ``version_dir``."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in argv and version_dir.encode() in argv:
                os.killpg(os.getpgid(int(pid)), signal.SIGKILL)
                return
        time.sleep(0.2)
    raise AssertionError(f"no server for {version_dir} found")


@pytest.mark.slow
def test_a_failing_first_canary_is_rolled_back_naming_the_metric(deploy_env, tiny_model):  # noqa: F811
    """No champion yet: the candidate is canaried against the base model without adapter. Its server dies at the
    first step, so every canary answer is a 5xx: the step exits 1, the reason names error_rate, and the registry
    records it (the candidate is rolled back, nobody becomes champion)."""
    version = register(_adapter(tiny_model, deploy_env / "adapter", 1), str(tiny_model), "aaaa", status="passed")
    canary = f"support-assistant-v{version}"
    path = state.state_path(run.state_dir(settings()), "support-assistant-base", canary)
    proc = subprocess.Popen([sys.executable, "-m", "llmops.deploy.run", *_step(deploy_env, "--steps", "25,100",
                             "--window-s", "1")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 150
        while not ((recorded := state.load(path)) and recorded.weights):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.2)
        _kill_server_of(str(deploy_env / "scratch" / "deploy" / "merged" / canary))
        out, err = proc.communicate(timeout=150)
    finally:
        proc.kill()
    assert proc.returncode == 1, out[-3000:] + err[-3000:]
    assert f"version {version} rolled back: step 0 (25%): error_rate" in err
    tags = _tags(version)
    assert tags["llmops.status"] == "rolled_back" and tags[REASON_TAG].startswith("step 0 (25%): error_rate")
    assert registry.version_by_alias(registry.CHAMPION) is None
    summary = json.loads((deploy_env / "lake" / "reports" / "deploy" / f"ds={DS}" / "summary.json").read_text())
    assert summary["status"] == state.ROLLED_BACK and summary["path"] == run.FIRST
    # every canary answer failing is proven worse within a few requests, before the window holds min_requests
    assert len(summary["looks"]) == 1 and summary["looks"][0]["canary_requests"] >= 1
    assert Path(run.lake.local_path(summary["report"])).read_text().count("rolled_back") >= 1


def test_on_call_rolls_back_a_running_rollout_and_status_shows_it(deploy_env, tiny_model, capsys):  # noqa: F811
    """A rollout left running (its task died mid-step) is ended by hand with the rollout's own code: traffic to
    stable (the only version the CLI loads), the state, the report and the registry."""
    adapters = deploy_env / "adapters"
    champion = register(_adapter(tiny_model, adapters / "a", 1), str(tiny_model), "aaaa", alias="champion")
    candidate = register(_adapter(tiny_model, adapters / "b", 2), str(tiny_model), "aaaa", status="passed")
    stable, canary = f"support-assistant-v{champion}", f"support-assistant-v{candidate}"
    path = state.state_path(run.state_dir(settings()), stable, canary)
    state.save(path, state.RolloutState(stable=stable, canary=canary, steps=[25, 100], weights=[(time.time(), 0.25)]))
    assert cli.main(["deploy", "status"]) == 0
    assert f"{canary:<24} {stable:<24} running     1/2           25%" in capsys.readouterr().out
    assert cli.main(["deploy", "rollback", "--version", str(candidate), "--reason", "pager: answers look off"]) == 0
    final = state.load(path)
    assert final.status == state.ROLLED_BACK and final.weights[-1][1] == 0.0
    assert _tags(candidate)["llmops.status"] == "rolled_back"
    assert _tags(candidate)[REASON_TAG] == "rollback by hand (llmops deploy): pager: answers look off"
    assert registry.version_by_alias(registry.CHAMPION)["version"] == champion
    capsys.readouterr()
    assert cli.main(["deploy", "status", "--version", str(candidate)]) == 0
    out = capsys.readouterr().out
    assert "rolled_back" in out and "pager: answers look off" in out and final.report in out
    assert cli.main(["deploy", "promote", "--version", str(candidate)]) == 2  # it ended: nothing to act on
    assert "no running rollout" in capsys.readouterr().err
