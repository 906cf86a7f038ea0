"""The governance probes through the shared serving client: how each kind of answer becomes a ChatReply."""

from __future__ import annotations

import time

import pytest

from llmops.governance.target import ClientChatTarget
from llmops.serving.client import OpenAIClient, ServingError
from tests.governance.test_runner import SAFE_ANSWER, capped, safe, serve

HELLO = [{"role": "user", "content": "Hello"}]


def slow(body: dict) -> tuple[int, dict]:
    time.sleep(1.5)
    return safe(body)


def test_answers_refusals_timeouts_and_unreachable_servers():
    with serve(capped(safe)) as url, OpenAIClient(url, "candidate", timeout_s=5) as client:
        target = ClientChatTarget(client)
        text, status, usage, latency = target.chat(HELLO, 16)
        assert (text, status) == (SAFE_ANSWER, 200) and latency > 0
        words = len(SAFE_ANSWER.split())  # the test server counts words as tokens and sends no total
        assert usage == {"prompt_tokens": 1, "completion_tokens": words, "total_tokens": 1 + words}
        refused = target.chat(HELLO, 1_000_000)  # LLM10 probes read a refusal as an answer
        assert (refused.status_code, refused.text, refused.usage) == (400, "maximum context length exceeded", {})
    with serve(slow) as url, OpenAIClient(url, "candidate", timeout_s=0.5) as client:
        assert ClientChatTarget(client).chat(HELLO, 16)[:3] == ("", 0, {})  # no answer in time: status 0
    with OpenAIClient(url, "candidate", timeout_s=2) as client, pytest.raises(ServingError, match="cannot reach"):
        ClientChatTarget(client).chat(HELLO, 16)  # nothing listens there any more: the run cannot go on
