"""1-nearest-neighbour two-sample test accuracy (Lopez-Paz & Oquab 2017, "Revisiting classifier
two-sample tests", ICLR; used for GANs by Xu et al. 2018, "An empirical study on evaluation metrics
of generative adversarial networks").

Over the union of real and fake samples, each sample is classified by the label of its nearest
other sample (leave-one-out). 0.5 means indistinguishable sets; 1.0 fully separated ones; well
below 0.5 suggests the fake samples copy the real ones. Distances are computed in row blocks
(from dot products, so exact ties between distinct neighbours are broken arbitrarily).
"""

from __future__ import annotations

import numpy as np

from ganforge.metrics._arrays import ArrayLike, as_pair, centred, row_chunks, sq_dists


def one_nn_accuracy(real: ArrayLike, fake: ArrayLike) -> tuple[float, float, float]:
    """Leave-one-out 1-NN accuracy over real+fake, then on real samples, then on fake samples."""
    a, b = as_pair(real, fake)
    z = np.concatenate(centred(a, b))
    labels = np.concatenate([np.zeros(a.shape[0], bool), np.ones(b.shape[0], bool)])
    z_sq = np.einsum("ij,ij->i", z, z)
    correct = np.empty(z.shape[0], bool)
    for rows in row_chunks(z.shape[0], z.shape[0]):
        d = sq_dists(z[rows], z, z_sq)
        idx = np.arange(rows.stop - rows.start)
        d[idx, rows.start + idx] = np.inf
        correct[rows] = labels[np.argmin(d, axis=1)] == labels[rows]
    n = a.shape[0]
    return float(correct.mean()), float(correct[:n].mean()), float(correct[n:].mean())
