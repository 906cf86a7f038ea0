"""``make demo``: the lifecycle on generated data, run by the live scheduler the way it runs in production.

Starts the live stack (:mod:`llmops.stack`) unless it is already up, switches the lifecycle DAGs on, triggers
``llmops_demo`` (sample data into the landing zone, then ``llmops_data``), and follows what the scheduler does
on its own: ``llmops_train`` on the ``gold_sft`` Asset event, then ``llmops_deploy`` on ``model_passed_gates``
when that DAG exists and the candidate passed, and after a successful rollout one ``llmops_drift`` run over the
traffic it produced. Progress goes to the terminal; at the end the stage table
(:mod:`llmops.summary`) and the URL to open. The runs, their task logs and report links stay in the UI; the
stack keeps running until ``make down``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import httpx

from llmops.stack import REPO, Stack, StackError

LIFECYCLE = ("llmops_demo", "llmops_data", "llmops_train", "llmops_deploy", "llmops_drift")
PROGRESS_EVERY_S = 20


class Follower:
    """REST reads of runs and task states as the admin user."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.client = httpx.Client(base_url=stack.url, timeout=30,
                                   headers={"Authorization": f"Bearer {stack.token('admin')}"})

    def dag_ids(self) -> set[str]:
        dags = self.client.get("/api/v2/dags", params={"dag_id_pattern": "llmops_"}).json()["dags"]
        return {d["dag_id"] for d in dags}

    def unpause(self, dag_id: str) -> None:
        self.client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    def trigger(self, dag_id: str, conf: dict) -> dict:
        resp = self.client.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
        resp.raise_for_status()
        return resp.json()

    def runs(self, dag_id: str) -> list[dict]:
        resp = self.client.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 20})
        resp.raise_for_status()
        return resp.json()["dag_runs"]

    def tasks(self, dag_id: str, run_id: str) -> list[dict]:
        resp = self.client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return resp.json()["task_instances"] if resp.status_code == 200 else []

    def follow(self, dag_id: str, matches, timeout_s: float) -> dict:
        """Wait for the newest run of ``dag_id`` that ``matches`` to finish, printing progress."""
        deadline, shown = time.monotonic() + timeout_s, 0.0
        while time.monotonic() < deadline:
            run = next((r for r in self.runs(dag_id) if matches(r)), None)
            if run and run["state"] in ("success", "failed"):
                print(f"{dag_id}: {run['state']} ({run['run_type']} run {run['dag_run_id']})", flush=True)
                return run
            if time.monotonic() - shown >= PROGRESS_EVERY_S:
                shown = time.monotonic()
                if run is None:
                    print(f"{dag_id}: waiting for the scheduler to start it", flush=True)
                else:
                    tis = self.tasks(dag_id, run["dag_run_id"])
                    done = sum(t["state"] in ("success", "skipped") for t in tis)
                    active = [t["task_id"] for t in tis if t["state"] in ("running", "queued", "deferred")]
                    print(f"{dag_id}: {run['state']}, {done}/{len(tis)} tasks done"
                          + (f", now {', '.join(active)}" if active else ""), flush=True)
            time.sleep(3)
        raise StackError(f"{dag_id} did not finish within {timeout_s:.0f} s; see the UI at {self.stack.url}")


def run_demo(stack: Stack, ds: str, records: int, timeout_s: float) -> tuple[bool, str | None]:
    """Whether the runs succeeded, and the drift check's window end when one ran."""
    follower = Follower(stack)
    present = follower.dag_ids()
    for dag_id in LIFECYCLE:
        if dag_id in present and dag_id != "llmops_drift":
            follower.unpause(dag_id)
    started = follower.trigger("llmops_demo", {"ds": ds, "records": records})
    after = started["run_after"]
    demo = follower.follow("llmops_demo", lambda r: r["dag_run_id"] == started["dag_run_id"], timeout_s)
    data = follower.follow("llmops_data", lambda r: r["conf"].get("ds") == ds and r["run_after"] >= after, timeout_s)
    if demo["state"] != "success" or data["state"] != "success":
        return False, None
    # gate_gold emits gold_sft before the data run ends: the training run starts after the data run's start
    train = follower.follow("llmops_train", lambda r: r["run_type"] == "asset_triggered"
                            and r["run_after"] >= data["start_date"], timeout_s)
    decided = {t["task_id"]: t["state"] for t in follower.tasks("llmops_train", train["dag_run_id"])}
    if "llmops_deploy" in present and decided.get("decide") == "success":
        deploy = follower.follow("llmops_deploy", lambda r: r["run_type"] == "asset_triggered"
                                 and r["run_after"] >= train["start_date"], timeout_s)  # fmt: skip
        if "llmops_drift" in present and deploy["state"] == "success":
            return True, check_drift(follower, timeout_s)
    return True, None


def check_drift(follower: Follower, timeout_s: float) -> str:
    """One llmops_drift run over the rollout's traffic (the gateway's inference log): its window ends at the next
    full hour (UTC), so it holds this hour's requests so far. Returns the window's end as ``DS:HH``."""
    end = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    follower.unpause("llmops_drift")  # a paused DAG's triggered run would wait for ever
    started = follower.trigger("llmops_drift", {"ds": f"{end:%Y-%m-%d}", "hour": f"{end:%H}"})
    follower.follow("llmops_drift", lambda r: r["dag_run_id"] == started["dag_run_id"], timeout_s)
    return f"{end:%Y-%m-%d}:{end:%H}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m llmops.demo", description=__doc__.splitlines()[0])
    p.add_argument("--ds", required=True)
    p.add_argument("--records", type=int, default=3000)
    p.add_argument("--home", type=Path, default=Path(os.environ.get("AIRFLOW_HOME") or REPO / ".airflow"))
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--timeout-min", type=float, default=45)
    args = p.parse_args(argv)
    stack = Stack(home=args.home.resolve(), port=args.port, profile=os.environ.get("LLMOPS_PROFILE", "local"))
    try:
        if stack.running():
            print(f"using the running stack at {stack.url} (its own settings and training budget)")
        else:
            stack.up()
            print(f"started the live stack at {stack.url}")
        ok, drift_window = run_demo(stack, args.ds, args.records, args.timeout_min * 60)
    except (StackError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from llmops.summary import main as summary  # noqa: PLC0415

    summary(["--ds", args.ds, *(["--drift-window", drift_window] if drift_window else [])])
    users = stack.state_dir / "users.json"
    print(f"\nOpen {stack.url} (users and passwords: {users}); `make down` stops the stack.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
