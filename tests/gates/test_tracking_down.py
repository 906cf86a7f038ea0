"""Gates fail closed when MLflow fails: an unreachable tracking server or a missing SQLite database is an error
(exit 2, one line, within seconds), never "no versions", "no champion" or "nothing to scan"."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from llmops.config import settings
from llmops.training import registry, tracking

DS = "2026-11-20"
DEADLINE_S = 20  # bounded retries: ~3 s here; MLflow's defaults retried for 257 s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def tracking_uri(monkeypatch):
    def use(uri: str, **extra: str) -> None:
        monkeypatch.setenv("LLMOPS__TRACKING__URI", uri)
        for key, value in extra.items():
            monkeypatch.setenv(key, value)
        settings.cache_clear()

    yield use
    settings.cache_clear()


@pytest.fixture
def closed_port(tracking_uri) -> str:
    """What a stopped tracking server looks like: connection refused on its port."""
    uri = f"http://127.0.0.1:{_free_port()}"
    tracking_uri(uri)
    return uri


def test_real_server_no_model_is_empty_then_stopped_is_an_error(tmp_path, tracking_uri):
    """Over real HTTP: "no such model" (RESOURCE_DOES_NOT_EXIST) is an empty registry; once the server is
    stopped, the same call raises instead of answering "no versions"."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path}/mlflow.db", "--default-artifact-root", f"file://{tmp_path}/a"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "mlflow server did not start"
                time.sleep(0.5)
        tracking_uri(f"http://127.0.0.1:{port}")
        assert registry.versions() == []
    finally:
        server.terminate()
        server.wait(timeout=60)
    started = time.monotonic()
    with pytest.raises(tracking.TrackingUnavailable, match="could not be read"):
        registry.versions()
    assert time.monotonic() - started < DEADLINE_S


def test_registry_list_against_a_closed_port_exits_2_within_seconds(closed_port, capsys):
    from llmops.cli import main

    started = time.monotonic()
    assert main(["registry", "list"]) == 2
    assert time.monotonic() - started < DEADLINE_S
    err = capsys.readouterr()
    assert "tracking error" in err.err and closed_port in err.err and "no versions" not in err.out


def test_missing_sqlite_database_is_refused_unless_asked_to_create(tmp_path, tracking_uri, capsys):
    from llmops.cli import main

    database = tmp_path / "typo" / "mlflow.db"
    tracking_uri(f"sqlite:///{database}", LLMOPS__TRACKING__CREATE_SQLITE="false")
    assert main(["registry", "list"]) == 2
    assert "no MLflow tracking database" in capsys.readouterr().err
    with pytest.raises(tracking.TrackingUnavailable):
        tracking.client()  # a writer too, while the setting says no
    assert not database.exists() and not database.parent.exists()
    tracking_uri(f"sqlite:///{database}", LLMOPS__TRACKING__CREATE_SQLITE="true")
    with pytest.raises(tracking.TrackingUnavailable):
        registry.versions()  # readers never create, whatever the setting
    tracking.client()  # a writer creates it when asked
    assert database.exists()
    assert registry.versions() == []  # and now it is a real, empty registry


def test_decide_fails_when_the_registry_is_unreachable(closed_port, tmp_path, capsys):
    from llmops.cli import main

    assert main(["gate", "decide", "--version", "1", "--lake-root", f"file://{tmp_path}/lake", "--ds", DS]) == 2
    out = capsys.readouterr()
    assert "has no version" not in out.out + out.err and "tracking error" in out.err


def test_eval_gate_does_not_drop_to_its_floors_when_the_registry_is_unreachable(closed_port, tmp_path, capsys):
    from llmops.evaluation.gate import main

    assert main(["--lake-root", f"file://{tmp_path}/lake", "--ds", DS, "--version", "challenger"]) == 2
    assert "tracking error" in capsys.readouterr().err
    assert not Path(tmp_path / "lake").exists()  # no verdict was written


def test_daily_champion_scan_fails_when_the_registry_is_unreachable(closed_port, tmp_path, capsys):
    """--skip-missing forgives "no champion yet", not "could not ask"."""
    from llmops.governance.gate import main

    code = main(["--lake-root", f"file://{tmp_path}/lake", "--ds", DS, "--version", "champion", "--skip-missing"])
    assert code == 2 and "tracking error" in capsys.readouterr().err


def test_training_trigger_fails_when_the_registry_is_unreachable(closed_port, tmp_path):
    with pytest.raises(tracking.TrackingUnavailable):
        registry.new_examples_since_candidate(f"file://{tmp_path}/lake", DS)
