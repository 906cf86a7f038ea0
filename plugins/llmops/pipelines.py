"""The steps of each pipeline, in order: the one definition both the DAGs and the CLI run."""

from __future__ import annotations

from llmops import lake
from llmops.steps import Step


def gate_report(lake_root: str, layer: str, ds: str) -> str:
    return lake.join(lake_root, "reports", "gates", layer, f"ds={ds}", "data_docs", "index.html")


def _gate(layer: str, lake_root: str, ds: str) -> Step:
    return Step(
        f"gate_{layer}",
        "expectations.gate",
        ("--layer", layer, "--lake-root", lake_root, "--ds", ds),
        report=gate_report(lake_root, layer, ds),
    )


def data_steps(raw_root: str, lake_root: str, ds: str, languages: str = "en", sample_records: str = "0") -> list[Step]:
    """raw landing zone -> bronze -> silver -> gold -> features, a gate after each layer.

    Values may be Jinja templates (in a DAG) or literals (``llmops data run``): nothing here
    inspects them, so ``ds`` is not validated until the step itself starts.
    """
    where = ("--lake-root", lake_root, "--ds", ds)
    return [
        Step("generate_sample", "llmops.cli", ("data", "generate", "--out", raw_root, "--ds", ds,
                                               "--records", sample_records)),
        Step("ingest", "spark_jobs.ingest", ("--raw-root", raw_root, *where),
             report=lake.summary_uri(lake_root, "ingest", ds)),
        _gate("bronze", lake_root, ds),
        Step("clean", "spark_jobs.clean", (*where, "--languages", languages),
             report=lake.summary_uri(lake_root, "clean", ds)),
        _gate("silver", lake_root, ds),
        Step("build_sft", "spark_jobs.build_sft", where,
             report=lake.summary_uri(lake_root, "build_sft", ds)),
        _gate("gold", lake_root, ds),
        Step("featurize", "spark_jobs.featurize", where),
        Step("feast_materialize", "llmops.feature_store", where),
    ]
