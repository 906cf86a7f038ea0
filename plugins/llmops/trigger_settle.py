"""A trigger's first event waits until the scheduler has seen the deferring worker exit.

Airflow 3.3.2 fails a deferred task whose trigger fires so soon that the resumed try is already running when the
scheduler processes the deferring try's exit ("finished with state success, but the task instance's state
attribute is running": apache/airflow#72716, open). The worker's supervisor reports that exit up to
``[workers] min_heartbeat_interval`` after the task deferred, then the scheduler's next loop reads it; a trigger
holds its first event until three such intervals have passed since the deferral. Reproduced here: a rollout
rolled back while its approval task deferred failed that task on a loaded 2-core machine, and skips it with this.
"""

from __future__ import annotations

import asyncio
import time

from airflow.configuration import conf

SETTLE_S = 3.0 * conf.getint("workers", "min_heartbeat_interval", fallback=5)


def settled_at() -> float:
    """When a trigger deferred to now may fire (epoch seconds): pass it as the trigger's ``not_before``."""
    return time.time() + SETTLE_S


async def settle(not_before: float) -> None:
    """Sleep until ``not_before`` (epoch seconds); at once when it has passed."""
    await asyncio.sleep(max(0.0, not_before - time.time()))
