"""Sample-quality metrics for GANs, on feature arrays or class probabilities (numpy or torch),
and per-image reconstruction metrics (PSNR, SSIM, L1, Laplacian variance) on image batches
(torch).

Every function computes in float64 (numpy, or torch for the per-image ones) and cites its paper
in its docstring.
"""

from __future__ import annotations

from ganforge.metrics.density_coverage import density_coverage
from ganforge.metrics.fid import frechet_distance, frechet_distance_from_stats
from ganforge.metrics.gan_train_test import GanTrainTest, classifier_accuracy, gan_train_test
from ganforge.metrics.image_quality import l1_error, laplacian_variance, psnr, ssim
from ganforge.metrics.inception_score import inception_score
from ganforge.metrics.kid import kernel_inception_distance, polynomial_mmd2
from ganforge.metrics.mode_counts import ModeCount, mode_counts, stacked_labels
from ganforge.metrics.mode_score import mode_score
from ganforge.metrics.one_nn import one_nn_accuracy
from ganforge.metrics.precision_recall import precision_recall
from ganforge.metrics.stats import FeatureStats, ProbStats
from ganforge.metrics.toy_coverage import ToyCoverage, toy_coverage
from ganforge.metrics.wasserstein import wasserstein_distance, wasserstein_method

__all__ = [
    "FeatureStats",
    "GanTrainTest",
    "ModeCount",
    "ProbStats",
    "ToyCoverage",
    "classifier_accuracy",
    "density_coverage",
    "frechet_distance",
    "frechet_distance_from_stats",
    "gan_train_test",
    "inception_score",
    "kernel_inception_distance",
    "l1_error",
    "laplacian_variance",
    "mode_counts",
    "mode_score",
    "one_nn_accuracy",
    "polynomial_mmd2",
    "precision_recall",
    "psnr",
    "ssim",
    "stacked_labels",
    "toy_coverage",
    "wasserstein_distance",
    "wasserstein_method",
]
