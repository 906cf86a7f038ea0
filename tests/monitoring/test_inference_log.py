"""The inference log: the sample data's planted personal data never reaches the file, requests through a real
gateway land in their date/hour partition, and a writer killed mid-flush leaves no half-written part."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llmops.monitoring.inference_log import InferenceLog, read_window, table_uri, to_table
from llmops.serving import gateway
from llmops.serving.gateway import RequestRecord
from llmops.serving.server import HOST, free_port
from llmops_demo import generate
from tests.serving.upstream import Upstream, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> list[dict]:
    """The e-mails, cards and phone numbers the sample-data generator plants."""
    out = tmp_path_factory.mktemp("raw")
    manifest = generate(f"file://{out}", "2026-11-20", 1500, seed=11)
    items = [i for i in manifest["pii"] if i["type"] in ("EMAIL", "CREDIT_CARD", "PHONE")]
    assert {i["type"] for i in items} == {"EMAIL", "CREDIT_CARD", "PHONE"}
    return items


def _record(prompt: str, answer: str, started_at: float, **kw) -> RequestRecord:
    return RequestRecord(endpoint="completions", started_at=started_at, model="support-assistant", variant="stable",
                         version="support-assistant-v6", status=200, duration_s=0.2, output_tokens=4,
                         request={"prompt": prompt}, response={"choices": [{"text": answer}],
                         "usage": {"prompt_tokens": 9, "completion_tokens": 4}}, **kw)  # fmt: skip


def _logged_text(lake: Path) -> str:
    tables = [pq.read_table(p) for p in sorted(lake.rglob("part-*.parquet"))]
    assert tables
    return "\n".join(str(v) for t in tables for c in ("prompt", "answer", "error") for v in t[c].to_pylist())


def test_planted_personal_data_never_reaches_the_file(planted, tmp_path):
    now = time.time()
    logger = InferenceLog(f"file://{tmp_path}")
    for i, item in enumerate(planted):
        logger(_record(f"Hi, please update my account: {item['value']} thanks", f"Noted {item['value']}.",
                       now, error=f"upstream echoed {item['value']}" if i % 3 == 0 else None))  # fmt: skip
    logger.close()
    text = _logged_text(tmp_path)
    leaked = [i for i in planted if i["value"] in text]
    assert len(planted) > 30 and leaked == []
    assert "[EMAIL]" in text and "[CREDIT_CARD]" in text and "[PHONE]" in text  # masked, not dropped
    for part in tmp_path.rglob("part-*.parquet"):  # the raw bytes too (dictionary pages, statistics)
        raw = part.read_bytes()
        assert not [i for i in planted if i["value"].encode() in raw]


def test_rows_carry_the_request_fields_and_land_in_their_hour(tmp_path):
    t1 = dt.datetime(2026, 12, 5, 13, 59, 59, tzinfo=dt.UTC).timestamp()
    t2 = dt.datetime(2026, 12, 5, 14, 0, 1, tzinfo=dt.UTC).timestamp()
    logger = InferenceLog(f"file://{tmp_path}")
    logger(_record("How do I reset my password?", "Use the link.", t1))
    logger(_record("Where is my order?", "On its way.", t2, ttft_s=0.05))
    logger.close()
    parts = sorted(p.relative_to(tmp_path).parent.as_posix() for p in tmp_path.rglob("part-*.parquet"))
    assert parts == ["inference/requests/ds=2026-12-05/hour=13", "inference/requests/ds=2026-12-05/hour=14"]
    rows = read_window(f"file://{tmp_path}", dt.datetime(2026, 12, 5, 14, tzinfo=dt.UTC),
                       dt.datetime(2026, 12, 5, 15, tzinfo=dt.UTC)).to_pylist()  # fmt: skip
    assert len(rows) == 1
    row = rows[0]
    assert (row["prompt"], row["answer"], row["version"], row["variant"], row["status"]) == (
        "Where is my order?",
        "On its way.",
        "support-assistant-v6",
        "stable",
        200,
    )
    assert (row["prompt_tokens"], row["output_tokens"], row["ttft_s"], row["latency_s"]) == (9, 4, 0.05, 0.2)


def test_requests_through_a_real_gateway_are_logged_masked(tmp_path):
    """The gateway's on_request_done hook, a completion and a chat, over real HTTP."""
    logger = InferenceLog(f"file://{tmp_path}", flush_interval_s=0.2).start()
    with serve_in_thread(Upstream().app()) as upstream_url:
        app = gateway.build_app(upstream_url, model="support-assistant", backend_model="support-assistant-v6",
                                max_tokens=16, max_prompt_chars=2000, request_timeout_s=5.0,
                                on_request_done=[logger])  # fmt: skip
        with serve_in_thread(app) as root:
            body = {"model": "support-assistant", "max_tokens": 4}
            assert httpx.post(f"{root}/v1/completions", json={**body, "prompt": "mail me: ana.ruiz@example.org"}
                              ).status_code == 200  # fmt: skip
            chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "card 4111 1111 1111 1111"}]
            assert httpx.post(f"{root}/v1/chat/completions", json={**body, "messages": chat}).status_code == 200
    logger.close()
    rows = [r for p in tmp_path.rglob("part-*.parquet") for r in pq.read_table(p).to_pylist()]
    assert sorted(r["prompt"] for r in rows) == ["card [CREDIT_CARD]", "mail me: [EMAIL]"]
    assert {r["version"] for r in rows} == {"support-assistant-v6"} and {r["status"] for r in rows} == {200}
    assert {r["endpoint"] for r in rows} == {"completions", "chat/completions"}


def test_a_failing_lake_is_logged_and_the_writer_carries_on(tmp_path, caplog):
    blocker = tmp_path / "inference"
    blocker.write_text("a file where the table's folder should be")
    logger = InferenceLog(f"file://{tmp_path}", flush_interval_s=0.05).start()
    logger(_record("first", "a", time.time()))
    deadline = time.monotonic() + 5
    while "writing a batch failed" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "writing a batch failed" in caplog.text
    blocker.unlink()
    logger(_record("second", "b", time.time()))
    logger.close()
    assert [r["prompt"] for p in tmp_path.rglob("part-*.parquet") for r in pq.read_table(p).to_pylist()] == ["second"]


_WRITER = textwrap.dedent("""
    import sys, time
    from llmops.monitoring.inference_log import InferenceLog
    from llmops.serving.gateway import RequestRecord
    log = InferenceLog(sys.argv[1], max_batch=20000)
    base = time.time()
    while True:  # big batches, so the kill lands inside a write most of the time
        for i in range(20000):
            log(RequestRecord(endpoint="completions", started_at=base + i % 7200, status=200, version="v",
                              request={"prompt": f"question {i} " * 20}, response={"choices": [{"text": "x" * 200}]}))
        log.flush()
        print("flushed", flush=True)
""")


def test_a_writer_killed_mid_flush_leaves_no_partial_part(tmp_path):
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'plugins'}:{ROOT}", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, f"file://{tmp_path}"], stdout=subprocess.PIPE, env=env,
                            text=True)  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "flushed"  # one complete batch, then kill inside the next
        time.sleep(0.4)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    parts = list(tmp_path.rglob("part-*.parquet"))
    leftovers = list(tmp_path.rglob("_tmp-*"))
    assert parts
    for part in parts:  # every visible part is a complete Parquet file
        assert pq.read_table(part).num_rows > 0
    # readers of the table never see the temporary files
    end = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    total = read_window(f"file://{tmp_path}", end - dt.timedelta(days=1), end).num_rows
    assert total == sum(pq.read_metadata(p).num_rows for p in parts)
    assert all(p.name.startswith("_tmp-") for p in leftovers)
    assert table_uri("file:///lake") == "file:///lake/inference/requests"


def test_a_window_over_max_rows_is_sampled_while_it_is_read(tmp_path):
    """600 rows in three part files: max_rows=100 reads 100 distinct rows drawn from every file; the window's
    count is in the table's metadata; a window within max_rows is read whole."""
    hour = dt.datetime(2026, 12, 5, 14, tzinfo=dt.UTC)
    one = to_table([_record("p", "a", hour.timestamp() + 60)])
    folder = tmp_path / "inference" / "requests" / "ds=2026-12-05" / "hour=14"
    folder.mkdir(parents=True)
    for f in range(3):
        part = pa.concat_tables([one] * 200)
        part = part.set_column(part.schema.get_field_index("prompt"), "prompt",
                               pa.array([f"{f}-{i}" for i in range(200)]))  # fmt: skip
        pq.write_table(part, folder / f"part-{f}.parquet", row_group_size=50)
    lake = f"file://{tmp_path}"
    sampled = read_window(lake, hour, hour + dt.timedelta(hours=1), max_rows=100)
    prompts = sampled["prompt"].to_pylist()
    assert sampled.num_rows == len(set(prompts)) == 100 and sampled.schema.metadata[b"window_rows"] == b"600"
    assert {p.split("-")[0] for p in prompts} == {"0", "1", "2"}
    assert read_window(lake, hour, hour + dt.timedelta(hours=1), max_rows=100, seed=1)["prompt"].to_pylist() != prompts
    whole = read_window(lake, hour, hour + dt.timedelta(hours=1), max_rows=600)
    assert whole.num_rows == 600 and whole.schema.metadata[b"window_rows"] == b"600"


def test_to_table_masks_every_free_text_column():
    table = to_table([_record("ssn 123-45-6789", "call +1 (415) 555-0132", time.time(), error="ip 10.1.2.3")])
    row = table.to_pylist()[0]
    assert (row["prompt"], row["answer"], row["error"]) == ("ssn [SSN]", "call [PHONE]", "ip [IP_ADDRESS]")


def test_gateway_command_line_writes_the_log_and_flushes_it_on_sigterm(tmp_path):
    port = free_port()
    with serve_in_thread(Upstream().app()) as upstream_url:
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'plugins'}:{ROOT}"}
        proc = subprocess.Popen([sys.executable, "-m", "llmops.serving.gateway", "--backend", upstream_url,
                                 "--model", "support-assistant", "--backend-model", "v6", "--port", str(port),
                                 "--max-tokens", "8", "--max-prompt-chars", "500", "--request-timeout-s", "5",
                                 "--inference-log", f"file://{tmp_path}", "--inference-log-flush-s", "3600"],
                                env=env, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    answer = httpx.post(
                        f"http://{HOST}:{port}/v1/completions",
                        json={"model": "support-assistant", "prompt": "reach me at +44 20 7946 0958", "max_tokens": 2},
                    )
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the gateway did not start"
                    time.sleep(0.2)
            assert answer.status_code == 200
            proc.send_signal(signal.SIGTERM)  # the open batch (flush interval 1 h) is written on the way out
            assert proc.wait(timeout=30) == 128 + signal.SIGTERM
        finally:
            proc.kill()
    rows = [r for p in tmp_path.rglob("part-*.parquet") for r in pq.read_table(p).to_pylist()]
    assert [(r["prompt"], r["version"]) for r in rows] == [("reach me at [PHONE]", "v6")]
