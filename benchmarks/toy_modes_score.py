"""Scoring, table and figure of benchmarks/toy_modes.py (VEEGAN/PacGAN protocol)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.api import Run
from ganforge.data.toy import toy_modes
from ganforge.metrics import toy_coverage
from ganforge.train.checkpoint import load_module, load_weights

N_SAMPLES = 2_500  # samples scored per run, as in VEEGAN and PacGAN
CURVE_POINTS = 8  # snapshots scored along each run: the curve over steps
SAMPLE_SEED = 12_345

#: Published figures (ring8 / grid25): modes covered and high-quality share.
PUBLISHED = (
    "Published (2,500 samples, 3 sigma): VEEGAN (Srivastava et al. 2017, Table 1): ring GAN "
    "1/8 modes at 99.3 % high-quality, unrolled GAN 7.6/8 at 35.6 %, VEEGAN 8/8 at 52.9 %; "
    "grid GAN 3.3/25 at 0.5 %, unrolled 23.6/25 at 16 %, VEEGAN 24.6/25 at 40 %. PacGAN (Lin et "
    "al. 2018, Table 1, grid): GAN 17.3/25 at 94.2 %, PacGAN2 23.8 at 91.3 %, PacGAN3 24.6 at "
    "94.2 %, PacGAN4 24.8 at 93.5 %.")


def coverage(samples: np.ndarray, data: str) -> dict[str, Any]:
    """Modes covered, high-quality share and reverse KL of `samples` on toy set `data`."""
    centres, std = toy_modes(data)
    got = toy_coverage(samples, centres, std)
    kl = got.reverse_kl
    return {"modes": got.modes_covered, "num_modes": got.num_modes,
            "high_quality": round(got.high_quality, 4), "min_count": got.min_count,
            "reverse_kl": None if math.isnan(kl) else round(kl, 4)}


@torch.no_grad()
def _samples(run: Run) -> np.ndarray:
    """N_SAMPLES points of the run's G from fixed noise."""
    return run.sample(N_SAMPLES, seed=SAMPLE_SEED).float().cpu().numpy()


def score(run: Run, out: Path, data: str, steps: int) -> dict[str, Any]:
    """The final G's coverage, the curve over the snapshots, the monitor's collapse flags."""
    final = _samples(run)
    curve = []
    for folder in sorted((out / "snapshots").glob("step_*")):
        path = folder / "generator.safetensors"
        load_module(run.generator, load_weights(path), path, "the run's generator")
        curve.append({"step": int(folder.name[5:]), **coverage(_samples(run), data)})
    flags = [r["step"] for r in run.dir.read_log()
             if r.get("event", {}).get("kind") == "mode_collapse"]
    return {**coverage(final, data), "collapse_flagged": len(flags) > 0,
            "collapse_steps": flags, "curve": curve, "samples": final}


def _mean_sd(values: list[float]) -> str:
    """'mean' for one value, 'mean ± sd' for several."""
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{np.mean(values):.3g} ± {np.std(values, ddof=1):.2g}"


def summary(rows: list[dict[str, Any]], order: list[str], datasets: tuple[str, ...]
            ) -> list[dict[str, Any]]:
    """One table row per (data, setting): seeds averaged (mean ± sd)."""
    table = []
    for data in datasets:
        for name in order:
            got = [r for r in rows if r["data"] == data and r["row"] == name]
            if not got:
                continue
            kls = [r["reverse_kl"] for r in got if r["reverse_kl"] is not None]
            table.append({
                "data": data, "row": name, "seeds": len(got), "steps": got[0]["steps"],
                "modes": _mean_sd([r["modes"] for r in got]) + f" / {got[0]['num_modes']}",
                "high_quality": _mean_sd([100 * r["high_quality"] for r in got]) + " %",
                "reverse_kl": _mean_sd(kls), "wall_s": _mean_sd([r["wall_s"] for r in got]),
                "collapse_flagged": f"{sum(r['collapse_flagged'] for r in got)}/{len(got)}"})
    return table


def notes() -> str:
    """The protocol, stated under the table's heading."""
    return (
        f"{N_SAMPLES} samples per run from fixed noise; a sample is high quality within 3 "
        "standard deviations of its nearest mode centre (ring8: std 0.02, radius 2, as Metz "
        "et al. 2017; grid25: std 0.05 at {-4..4}^2, as PacGAN). A mode is covered when at "
        "least ceil(N / 5K) high-quality samples land on it (20 of 2,500 on grid25, PacGAN's "
        "rule: one fifth of the 100 expected per mode; 63 on ring8, the same fifth of the 312 "
        "expected): one stray sample does not make a mode. reverse_kl: KL(mode histogram of "
        "the high-quality samples || uniform) in nats (0: even; log K: one mode). Cells: mean ± "
        "sd over the seeds. collapse_flagged: runs in which the monitor reported mode collapse. "
        "wall_s: training time on the machine named above (shared). The preset rows use the "
        "presets' own nets and defaults (batch 64, MLPs of 256-512-1024); the toy rows are "
        "src/ganforge/variants/toy_presets.py (3x128 MLPs, 2-D noise, batch 100). Curves over "
        "steps are in the json (`curve`, 8 snapshots a run).\n\n" + PUBLISHED)


def figure(rows: list[dict[str, Any]], order: list[str], datasets: tuple[str, ...],
           runs: Path, path: Path) -> None:
    """Final samples of each row's first seed: one figure row per setting, a column per data."""
    from matplotlib.figure import Figure

    from ganforge.viz.toy2d import draw_modes

    names = [n for n in order if any(r["row"] == n for r in rows)]
    if not names:
        return
    fig = Figure(figsize=(2.4 * len(datasets), 2.4 * len(names)))
    for i, name in enumerate(names):
        for j, data in enumerate(datasets):
            ax = fig.add_subplot(len(names), len(datasets), i * len(datasets) + j + 1)
            ax.set(xticks=[], yticks=[], aspect="equal")
            lim = 3.0 if data == "ring8" else 6.0
            ax.set(xlim=(-lim, lim), ylim=(-lim, lim))
            got = sorted((r for r in rows if r["row"] == name and r["data"] == data),
                         key=lambda r: r["seed"])
            file = runs / got[0]["key"].replace(" ", "_") / "final_samples.npy" if got else None
            if file is not None and file.is_file():
                pts = np.load(file)
                ax.scatter(pts[:, 0], pts[:, 1], s=1, c="tab:red", alpha=0.4, linewidths=0)
                draw_modes(ax, toy_modes(data))
                r = got[0]
                ax.set_title(f"{data}: {r['modes']}/{r['num_modes']}, "
                             f"{100 * r['high_quality']:.0f} %", fontsize=8)
            if j == 0:
                ax.set_ylabel(name, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
