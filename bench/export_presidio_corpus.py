"""Export presidio-evaluator's labelled PII sentences once, so the PII benchmark and tests read data
nobody in this project wrote.

presidio-evaluator 0.3.2 (Microsoft, MIT licence) requires pandas>=3 while Feast pins pandas<3, so it
cannot live in the project's environment: run this script in an environment of its own, e.g.

    python3 -m venv /tmp/pe-env && /tmp/pe-env/bin/pip install uv
    /tmp/pe-env/bin/uv pip install --python /tmp/pe-env/bin/python presidio-evaluator==0.3.2
    /tmp/pe-env/bin/python bench/export_presidio_corpus.py [--sentences 20000] [--seed 42] [--out FILE]

Writes bench/data/presidio_evaluator_sentences.jsonl.gz: one sentence a line, {"text", "template_id",
"spans": [{"type", "value", "start", "end"}]} with presidio-evaluator's own entity types.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

OUT = Path(__file__).with_name("data") / "presidio_evaluator_sentences.jsonl.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--locale", default="en_US")
    parser.add_argument("--out", type=Path, default=OUT, help="a held-out corpus goes elsewhere (another seed)")
    args = parser.parse_args()

    from importlib.metadata import version

    from presidio_evaluator.data_generator import PresidioSentenceFaker

    faker = PresidioSentenceFaker(args.locale, lower_case_ratio=0.05, random_seed=args.seed)
    samples = faker.generate_new_fake_sentences(args.sentences)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "source": f"presidio-evaluator {version('presidio-evaluator')} PresidioSentenceFaker",
        "licence": "MIT (presidio-evaluator); values from Faker (MIT) and FakeNameGenerator.com sample data",
        "locale": args.locale,
        "seed": args.seed,
        "sentences": args.sentences,
    }
    with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write(json.dumps({"meta": meta}) + "\n")
        for sample in samples:
            spans = [
                # the text, not entity_value: with lower_case_ratio the value is lower-cased, the text is not
                {
                    "type": s.entity_type,
                    "value": sample.full_text[s.start_position : s.end_position],
                    "start": s.start_position,
                    "end": s.end_position,
                }
                for s in sample.spans
            ]
            out.write(json.dumps({"text": sample.full_text, "template_id": sample.template_id, "spans": spans}) + "\n")
    print(f"wrote {len(samples)} sentences to {args.out}")


if __name__ == "__main__":
    main()
