"""Secrets the pipeline needs, read from the environment (Kubernetes Secrets in production)."""

from __future__ import annotations

import os
import secrets as _random

from llmops.config import PROJECT_ROOT, ConfigError, Settings, settings

LOCAL_KEY_FILE = PROJECT_ROOT / ".lake" / "secrets" / "pseudonym.key"


def pseudonym_key(cfg: Settings | None = None) -> bytes:
    """The key of the keyed hash that pseudonymises personal identifiers.

    From the environment variable named by ``data.pseudonym_key_env``. The embedded ``local``
    profile creates a random key once in a private file (mode 0600) outside the repository's
    tracked files, so the demo works with no set-up and the key is never a constant in the code.
    """
    cfg = cfg or settings()
    value = os.environ.get(cfg.data.pseudonym_key_env)
    if value:
        return value.encode()
    if cfg.profile != "local":
        raise ConfigError(
            f"{cfg.data.pseudonym_key_env} is not set: profile {cfg.profile!r} needs the pseudonymisation key "
            f"from a secret (runtime.pseudonym_secret={cfg.runtime.pseudonym_secret!r})"
        )
    if not LOCAL_KEY_FILE.exists():
        LOCAL_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(LOCAL_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(_random.token_hex(32))
    return LOCAL_KEY_FILE.read_text().strip().encode()
