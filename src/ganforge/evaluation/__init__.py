"""Sample-quality evaluation: sources, streaming feature extraction, metric dispatch, records;
and the evaluation of image-to-image translation runs (two-domain and multi-domain).

    from ganforge.evaluation import EvalOptions, evaluate_run, evaluate_translation
    report = evaluate_run("runs/demo", EvalOptions(metrics=("fid", "kid"), n=10_000))
    print(report.table()); report.write_json("eval.json")
    report = evaluate_translation("runs/pix2pix-facades", n=50)  # L1, PSNR, SSIM, sharpness
    report = evaluate_attribute_translation("runs/stargan")  # success, preservation, FID, KID
"""

from ganforge.evaluation.attribute_translation import evaluate_attribute_translation
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
from ganforge.evaluation.translation import (
    TRANSLATION_METRICS,
    TranslationOptions,
    evaluate_translation,
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
    "TRANSLATION_METRICS",
    "TranslationOptions",
    "dataset_source",
    "default_metrics",
    "evaluate",
    "evaluate_attribute_translation",
    "evaluate_folders",
    "evaluate_run",
    "evaluate_translation",
    "parse_metrics",
    "real_source",
]
