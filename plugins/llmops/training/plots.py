"""Pictures for runs and sweeps (matplotlib, Agg: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first


def loss_curve(train: list[tuple[int, float]], val: list[tuple[int, float]], out: Path, title: str = "") -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss", alpha=0.7)
    if val:
        ax.plot(*zip(*val, strict=True), "o-", label="validation loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss per answer token")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return Path(out)


def sweep_trials(trials: list[dict], params: list[str], out: Path) -> Path:
    """Best validation loss against each parameter; stopped trials drawn as red crosses.

    ``trials``: dicts with ``params`` (name -> value), ``best_val_loss`` and ``state`` (completed|stopped).
    """
    fig, axes = plt.subplots(1, len(params), figsize=(3.2 * len(params), 3.4), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], params, strict=True):
        for state, style in (("completed", {"marker": "o", "color": "tab:blue"}),
                             ("stopped", {"marker": "x", "color": "tab:red"})):
            points = [(t["params"][name], t["best_val_loss"]) for t in trials
                      if t["state"] == state and t.get("best_val_loss") is not None]
            if points:
                ax.scatter(*zip(*points, strict=True), label=state, **style)
        if name == "learning_rate":
            ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("best validation loss")
    axes[0][-1].legend()
    fig.suptitle("sweep trials (x = stopped by the median rule)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return Path(out)
