"""Finding a registered version by number or alias: its lineage, and its adapter available locally."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmops.candidates.adapter_cache import download_adapter
from llmops.config import settings
from llmops.training import registry


class CandidateNotFound(LookupError):
    """No version has that number or alias (before the first promotion there is no champion)."""


@dataclass(frozen=True)
class Candidate:
    model: str  # the registered model's name
    version: int
    run_id: str  # the final training run the version was registered from
    base: str  # the base model: a local directory or a hub id
    base_revision: str
    adapter_dir: Path  # local copy of the version's adapter
    tags: dict[str, str]  # the version's lineage tags

    @property
    def final_run_id(self) -> str:
        return self.tags.get("llmops.final_run_id", self.run_id)

    def lineage(self) -> dict[str, Any]:
        """The registry coordinates and every lineage tag, for reports."""
        return {"registered_model": self.model, "version": self.version, "run_id": self.run_id, **self.tags}


def version_row(ref: str) -> dict:
    """``registry.versions()``'s row for a version number or an alias."""
    rows = registry.versions()
    if ref.isdigit():
        row = next((r for r in rows if r["version"] == int(ref)), None)
    else:
        row = next((r for r in rows if ref in r["aliases"]), None)
    if row is None:
        what = f"version {ref}" if ref.isdigit() else f"a version with alias {ref!r}"
        raise CandidateNotFound(f"registered model {settings().tracking.registered_model!r} has no {what}")
    return row


def resolve(version_or_alias: str) -> Candidate:
    """The version with that number or alias, its adapter available locally."""
    row = version_row(version_or_alias)
    tags = row["tags"]
    return Candidate(
        model=settings().tracking.registered_model, version=row["version"], run_id=row["run_id"],
        base=tags["llmops.base_model"], base_revision=tags.get("llmops.base_model_revision", ""),
        adapter_dir=download_adapter(row["source"], row["run_id"]), tags=tags,
    )


def champion() -> Candidate | None:
    """The version users are served (alias ``champion``), or None before the first promotion."""
    try:
        return resolve(registry.CHAMPION)
    except CandidateNotFound:
        return None
