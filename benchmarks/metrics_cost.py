"""Cost of evaluation: time and peak memory of FID + KID on 10k vs 10k MNIST images on the CPU
with the MNIST domain classifier, and FID alone at growing n (streaming: memory stays flat).

Memory is reported two ways, each measured around the evaluation call only (data already
loaded): `tracemalloc_peak_mib`, the peak of Python/numpy allocations traced by tracemalloc
(numpy registers its buffers; torch's C++ allocations are not traced), and `rss_peak_delta_mib`,
the peak resident set size during the call (read from /proc/self/statm every 5 ms by a thread)
minus the RSS just before it, which sees every allocation. (resource.getrusage's ru_maxrss is
not used: loading the datasets sets a higher high-water mark than the evaluation reaches, so its
delta reads 0.) Each case runs in a fresh subprocess. Writes
benchmarks/results/metrics_cost.{json,md}.

    GANFORGE_DATA=../shared/data nice python benchmarks/metrics_cost.py
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

RESULTS = Path(__file__).resolve().parent / "results"
#: (label, metrics, n per side)
CASES = [("fid+kid", "fid,kid", 10_000), ("fid", "fid", 2_500), ("fid", "fid", 10_000)]


def machine() -> dict[str, Any]:
    """Where and with what the numbers were measured."""
    from ganforge import __version__

    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": platform.platform(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "torch_version": torch.__version__, "ganforge_version": __version__}


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_during(fn: Callable[[], Any]) -> tuple[Any, int]:
    """Run `fn`; return its result and the peak RSS above the starting RSS (5 ms sampling)."""
    start, peak, done = rss_bytes(), [0], threading.Event()

    def poll() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], rss_bytes())

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        result = fn()
    finally:
        done.set()
        thread.join()
    return result, max(peak[0], rss_bytes()) - start


def measure(metrics: str, n: int, threads: int) -> dict[str, Any]:
    """One case in this process: train-split fakes vs the test split, timed and traced."""
    from ganforge.evaluation import EvalOptions, dataset_source, evaluate

    torch.set_num_threads(threads)
    real, fake = dataset_source("mnist", "test"), dataset_source("mnist", "train")
    opts = EvalOptions(metrics=tuple(metrics.split(",")), n=n, features="mnist-classifier")
    evaluate(real, real, EvalOptions(metrics=("fid",), n=10))  # warm-up: weights, threads
    tracemalloc.start()
    start = time.perf_counter()
    report, rss_peak = peak_rss_during(lambda: evaluate(fake, real, opts))
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"metrics": metrics, "n_real": report.n_real, "n_fake": report.n_fake,
            "seconds": round(seconds, 2), "tracemalloc_peak_mib": round(peak / 2**20, 1),
            "rss_peak_delta_mib": round(rss_peak / 2**20, 1),
            "values": {k: v for r in report.results for k, v in r.values.items()},
            "features": report.provenance.features,
            "features_sha256": report.provenance.features_sha256,
            "note": "tracemalloc slows numpy-heavy code a little; times are with it on"}


def markdown(rows: list[dict[str, Any]], info: dict[str, Any], command: str) -> str:
    """Results as a markdown table with the machine facts."""
    lines = ["# Evaluation cost on the CPU (MNIST, mnist-classifier)", "",
             f"Command: `{command}`", "",
             "| metrics | n real | n fake | seconds | tracemalloc peak MiB | RSS peak delta MiB |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['metrics']} | {r['n_real']} | {r['n_fake']} | {r['seconds']} | "
                     f"{r['tracemalloc_peak_mib']} | {r['rss_peak_delta_mib']} |")
    lines += ["", "Time: wall clock of `evaluate()` (feature extraction of both sides + metrics)."
              " Memory: tracemalloc peak (Python and numpy allocations) and the peak RSS above "
              "the RSS before the call (whole process, sampled every 5 ms), each case in a "
              "fresh process. The two FID rows show the streaming: 4x the samples, the same "
              "memory. On a machine shared with other jobs the times vary by +-30 %.", "",
              "Machine:", ""] + [f"- {k}: {v}" for k, v in info.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run each case in a subprocess, print and save."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--case", nargs=2, metavar=("METRICS", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(measure(args.case[0], int(args.case[1]), args.threads)))
        return
    torch.set_num_threads(args.threads)
    rows = []
    for _, metrics, n in CASES:
        out = subprocess.run([sys.executable, __file__, "--threads", str(args.threads),
                              "--case", metrics, str(n)], check=True, capture_output=True,
                             text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(f"{metrics:8s} n={n:6d}  {rows[-1]['seconds']:7.1f} s  tracemalloc peak "
              f"{rows[-1]['tracemalloc_peak_mib']} MiB  RSS +{rows[-1]['rss_peak_delta_mib']}"
              f" MiB  {rows[-1]['values']}", flush=True)
    info = machine()
    command = f"nice python benchmarks/metrics_cost.py --threads {args.threads}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": "metrics_cost", "command": command, "machine": info, "rows": rows}
    (RESULTS / "metrics_cost.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / "metrics_cost.md").write_text(markdown(rows, info, command))
    print(f"Wrote {RESULTS / 'metrics_cost.json'} and {RESULTS / 'metrics_cost.md'}")


if __name__ == "__main__":
    main()
