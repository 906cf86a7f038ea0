"""Bad input on a command line is one line naming the problem and exit 2: no traceback, no Java stack trace."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _run(*argv: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})  # fmt: skip


def test_a_malformed_settings_variable_is_one_line():
    proc = _run("llmops.cli", "config", LLMOPS__DATA__LANGUAGES="[en, de")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "llmops: configuration error: LLMOPS__DATA__LANGUAGES='[en, de' is not a valid YAML value: "
        "expected ',' or ']', but got '<stream end>'"
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ("spark_jobs.clean", "--lake-root", "foo://bucket/lake", "--ds", "2026-11-20"),
        ("spark_jobs.ingest", "--raw-root", "foo://bucket/raw", "--lake-root", "file:///tmp/l", "--ds", "2026-11-20"),
        ("expectations.gate", "--layer", "gold", "--lake-root", "foo://bucket/lake", "--ds", "2026-11-20"),
    ],
    ids=["clean", "ingest", "gate"],
)
def test_an_unknown_uri_scheme_is_refused_before_spark(argv):
    proc = _run(*argv)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "java" not in proc.stderr.lower()
    assert "unsupported URI scheme 'foo'" in proc.stderr.strip().splitlines()[-1]


def test_too_few_demo_records_is_a_usage_error():
    proc = _run("llmops_demo", "--ds", "2026-11-20", "--records", "300", "--out", "file:///tmp/llmops-demo-unused")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--records: must be >= 500" in proc.stderr.strip().splitlines()[-1]
