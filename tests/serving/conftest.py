"""Fixtures for the serving tests: one real upstream HTTP app for the whole session."""

from __future__ import annotations

import pytest

from tests.serving.upstream import Upstream, serve_in_thread


@pytest.fixture(scope="session")
def upstream():
    """(state, root URL) of the OpenAI-shaped upstream app (tests.serving.upstream)."""
    state = Upstream()
    with serve_in_thread(state.app()) as url:
        yield state, url
