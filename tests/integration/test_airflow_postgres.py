"""The data DAG with Airflow's metadata database on PostgreSQL and Feast's online store on Redis
(the `integration` profile), then an online feature read after materialization."""

from __future__ import annotations

import json
import subprocess
import uuid

import psycopg2
import pyarrow.dataset as pads
import pytest
import redis

from llmops_demo import generate
from tests.airflow_env import BIN, airflow_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
DS = "2026-11-19"


@pytest.fixture
def postgres_db():
    name = f"llmops_it_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg2://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_data_dag_on_postgres_with_redis_online_store(tmp_path, postgres_db):
    project = f"llmops_it_{uuid.uuid4().hex[:8]}"
    env = airflow_env(
        tmp_path / "airflow", lake=tmp_path / "lake", raw=tmp_path / "raw",
        LLMOPS_PROFILE="integration", LLMOPS__FEAST__PROJECT=project,
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgres_db,
    )
    (tmp_path / "airflow").mkdir()
    migrate = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True,
                             timeout=600)
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
    generate(f"file://{tmp_path / 'raw'}", DS, 1500)
    run = subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "llmops_data", DS, "-c", json.dumps({"ds": DS})],
        env=env, capture_output=True, text=True, timeout=1500,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]

    # the run is recorded in PostgreSQL, not in a SQLite file
    conn = psycopg2.connect(dbname=postgres_db.rsplit("/", 1)[1], **PG)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT state, count(*) FROM task_instance WHERE dag_id = 'llmops_data' GROUP BY state")
        states = dict(cur.fetchall())
    conn.close()
    assert states == {"success": 8}
    assert not (tmp_path / "airflow" / "airflow.db").exists()

    # the online store is Redis: read a gold example's features back through Feast
    gold = pads.dataset(tmp_path / "lake" / "gold" / "sft" / f"ds={DS}").to_table(columns=["example_id"])
    example = gold.column("example_id")[0].as_py()
    read = subprocess.run(
        [str(BIN / "python"), "-c",
         "import json, sys\n"
         "from llmops.feature_store import read_online\n"
         "print('JSON:' + json.dumps(read_online([sys.argv[1]], ['llm_training_features:n_chars'])))",
         example],
        env=env, capture_output=True, text=True, timeout=300,
    )
    line = next((ln for ln in read.stdout.splitlines() if ln.startswith("JSON:")), None)
    assert line, read.stdout[-2000:] + read.stderr[-2000:]
    assert json.loads(line[5:])["n_chars"][0] > 0
    client = redis.Redis(host="127.0.0.1", port=6379)
    keys = client.keys(f"*{project}*")
    assert keys, "no feature rows for this project in Redis"
    client.delete(*keys)
