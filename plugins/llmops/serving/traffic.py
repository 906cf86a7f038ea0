"""The traffic split: which served version answers a request for a stable model name.

Clients ask for the stable name (``support-assistant``); a :class:`Route` maps it to the stable version
and, during a rollout, a canary version with a weight. The choice is sticky: a caller's key (the
``X-Session-Id`` header, else the request's ``user`` field) hashes to a fixed point in [0, 1), and the
caller gets the canary while that point lies below the canary's weight. One conversation therefore
stays on one version at a fixed weight, and raising the weight only moves stable callers to the canary,
never back. A request without a key gets a fresh random draw.

The table lives in one place: a file the gateway polls (the mounted ConfigMap in kubernetes; kubelet
swaps the file through a symlink, which a stat of the path follows), or the gateway's authenticated
admin endpoint locally. In kubernetes it also lists the LoRA adapters every pod of the pool must hold
(``adapters``: served name -> path on the model-cache volume), which each pod's gateway loads into its own
vLLM (:mod:`llmops.serving.adapter_sync`): one write reaches every replica. Standard library and pydantic
only, like the gateway.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

log = logging.getLogger("llmops.gateway.traffic")
SESSION_HEADER = "x-session-id"


class Target(BaseModel):
    """One served version: the name the backend serves it under, and where (None: the gateway's backend)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    model: str = Field(min_length=1)
    backend: str | None = None


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    stable: Target
    canary: Target | None = None
    canary_weight: float = Field(0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _weight_needs_canary(self) -> Route:
        if self.canary is None and self.canary_weight > 0:
            raise ValueError("canary_weight > 0 needs a canary")
        if self.canary is not None and self.canary == self.stable:
            raise ValueError("the canary must be a different version than the stable one")
        return self


class TrafficTable(BaseModel):
    """Stable model name -> route. The gateway serves exactly these names. ``adapters``: served name -> adapter
    directory, the LoRA adapters the gateway keeps loaded in its vLLM when it syncs adapters (empty: none)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    routes: dict[str, Route] = Field(min_length=1)
    adapters: dict[str, str] = Field(default_factory=dict)

    def with_routes(self, routes: dict[str, Route]) -> TrafficTable:
        """This table with ``routes`` instead of its own, its adapters kept."""
        return TrafficTable(routes=routes, adapters=self.adapters)

    @field_validator("adapters")
    @classmethod
    def _absolute_paths(cls, adapters: dict[str, str]) -> dict[str, str]:
        relative = {name: path for name, path in adapters.items() if not name or not path.startswith("/")}
        if relative:
            raise ValueError(f"adapters need a name and an absolute path in the pod, got {relative}")
        return adapters


@dataclass(frozen=True)
class Assignment:
    model: str  # the stable name the client asked for
    variant: Literal["stable", "canary"]
    target: Target


def caller_point(model: str, key: str) -> float:
    """The caller's fixed point in [0, 1) for ``model``: the first 8 bytes of SHA-256 as a fraction."""
    digest = hashlib.sha256(f"{model}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(table: TrafficTable, model: str, caller_key: str | None) -> Assignment | None:
    """The version that answers ``caller_key``'s request for ``model``; None if the table has no such name."""
    route = table.routes.get(model)
    if route is None:
        return None
    point = caller_point(model, caller_key) if caller_key else random.random()
    if route.canary is not None and point < route.canary_weight:
        return Assignment(model, "canary", route.canary)
    return Assignment(model, "stable", route.stable)


def read_table(path: Path) -> tuple[TrafficTable, bytes]:
    """The table in the JSON file at ``path`` and the bytes it came from; ValueError if missing or invalid."""
    try:
        raw = path.read_bytes()
        return TrafficTable.model_validate(json.loads(raw)), raw
    except (OSError, ValueError, ValidationError) as exc:
        raise ValueError(f"traffic table {path}: {exc}") from exc


def write_table(path: Path, table: TrafficTable) -> None:
    """Write atomically (rename), so a watcher never reads half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(table.model_dump_json(indent=2, exclude_none=True))
    os.replace(tmp, path)


async def watch_table(
    path: Path,
    loaded: bytes,
    on_change: Callable[[TrafficTable], None],
    on_error: Callable[[str], None],
    poll_s: float,
) -> None:
    """Call ``on_change`` with the file's table whenever its content differs from the last seen (``loaded`` at
    first). An invalid file keeps the last good table in force (``on_error`` reports it): a bad edit must not
    take traffic away."""
    seen = loaded
    while True:
        await asyncio.sleep(poll_s)
        try:
            current = path.read_bytes()
        except OSError as exc:
            on_error(f"cannot read {path}: {exc}")
            continue
        if current == seen:
            continue
        seen = current
        try:
            on_change(read_table(path)[0])
        except ValueError as exc:
            on_error(str(exc))
