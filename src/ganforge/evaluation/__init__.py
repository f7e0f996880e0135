"""Sample-quality evaluation: sources, streaming feature extraction, metric dispatch, records.

    from ganforge.evaluation import EvalOptions, evaluate_run
    report = evaluate_run("runs/demo", EvalOptions(metrics=("fid", "kid"), n=10_000))
    print(report.table()); report.write_json("eval.json")
"""

from ganforge.evaluation.metrics import METRICS, MetricParams, parse_metrics
from ganforge.evaluation.pipeline import (
    EvalOptions,
    dataset_source,
    default_metrics,
    evaluate,
    evaluate_folders,
    evaluate_run,
    real_source,
)
from ganforge.evaluation.record import EvalReport, MetricResult, Provenance
from ganforge.evaluation.sources import (
    Chunk,
    DatasetSource,
    FolderSource,
    RunSource,
    SampleSource,
)

__all__ = [
    "METRICS",
    "Chunk",
    "DatasetSource",
    "EvalOptions",
    "EvalReport",
    "FolderSource",
    "MetricParams",
    "MetricResult",
    "Provenance",
    "RunSource",
    "SampleSource",
    "dataset_source",
    "default_metrics",
    "evaluate",
    "evaluate_folders",
    "evaluate_run",
    "parse_metrics",
    "real_source",
]
