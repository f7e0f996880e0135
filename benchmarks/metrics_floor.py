"""The real-data floor: what a perfect generator scores on each metric.

Each metric is computed between MNIST train and test and between two disjoint halves of the
train split (10k vs 10k, seeded), the same for Fashion-MNIST, with the dataset's domain
classifier; Stacked MNIST adds the 1000-mode count. Prints a table and writes
benchmarks/results/metrics_floor.{json,md}.

    GANFORGE_DATA=../shared/data nice python benchmarks/metrics_floor.py [--n 10000]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from ganforge.data import InMemoryDataset, load_dataset
from ganforge.evaluation import DatasetSource, EvalOptions, EvalReport, evaluate
from ganforge.evaluation.sources import subset

RESULTS = Path(__file__).resolve().parent / "results"
METRICS = ("fid", "kid", "pr", "dc", "1nn", "w1", "is", "ms", "modes")
NOTES = (
    "IS is a property of one sample set, not a comparison: `is` is the Inception Score "
    "(here: the domain classifier's score) of the fake side and `is_real` that of the real "
    "side; on real data it is the ceiling a generator can reach, not a floor of a distance.",
    "Mode counts on real data are 10/10 (1000/1000 only if every digit triple occurs); KL to "
    "uniform is the real class imbalance plus finite-sample noise of about (K - 1) / (2 N) nats "
    "(0.05 for 1000 modes and 10k samples). They are the reference, not a distance floor.",
    "1-NN accuracy: the ideal is 0.5 (indistinguishable sets); precision, recall, density and "
    "coverage: about 1.",
)


def machine() -> dict[str, Any]:
    """Where and with what the numbers were measured."""
    from ganforge import __version__

    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": platform.platform(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "torch_version": torch.__version__, "ganforge_version": __version__}


def part(data: InMemoryDataset, idx: torch.Tensor, label: str) -> DatasetSource:
    """Rows `idx` of a dataset as a source named `<dataset>:<label>`."""
    labels = None if data.labels is None else data.labels[idx]
    rows = InMemoryDataset(data.name, data.data[idx], labels, data.num_classes)
    return DatasetSource(rows, label)


def pairs(dataset: str, n: int, seed: int) -> list[tuple[str, DatasetSource, DatasetSource]]:
    """(label, real, fake): the test split against a train subset (a perfect generator's
    samples), and two disjoint parts of the train split."""
    train = load_dataset(dataset, split="train", seed=seed)
    test = load_dataset(dataset, split="test", seed=seed)
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))
    return [
        ("test vs train", part(test, subset(len(test), n, seed), "test"),
         part(train, subset(len(train), n, seed), "train")),
        ("train A vs train B", part(train, perm[:n].sort().values, "train-A"),
         part(train, perm[n : 2 * n].sort().values, "train-B")),
    ]


def row(dataset: str, label: str, report: EvalReport) -> dict[str, Any]:
    """One JSON row: the pair, the values of every metric and the provenance."""
    values: dict[str, Any] = {}
    for result in report.results:
        values.update(result.values)
    return {"dataset": dataset, "pair": label, "real": report.provenance.real,
            "fake": report.provenance.fake, "n_real": report.n_real, "n_fake": report.n_fake,
            "seconds": round(report.seconds, 1), "values": values,
            "features": report.provenance.features,
            "features_sha256": report.provenance.features_sha256,
            "resize_method": report.provenance.resize_method, "seed": report.provenance.seed}


COLUMNS = ("fid", "kid", "precision", "recall", "density", "coverage", "1nn", "w1", "is",
           "is_real", "mode_score", "modes", "kl_to_uniform")


def markdown(rows: list[dict[str, Any]], info: dict[str, Any], command: str) -> str:
    """The results as a markdown table with machine facts and notes."""
    head = "| dataset | pair | " + " | ".join(COLUMNS) + " |"
    lines = ["# Metric floor: real data against real data", "", f"Command: `{command}`", "",
             head, "|" + "---|" * (len(COLUMNS) + 2)]
    for r in rows:
        cells = [_cell(r["values"].get(c)) for c in COLUMNS]
        lines.append(f"| {r['dataset']} | {r['pair']} | " + " | ".join(cells) + " |")
    lines += ["", "Features: each dataset's domain classifier (Stacked MNIST: per channel); "
              "W1 is the sliced estimate (256 projections) beyond 2000 samples.", ""]
    lines += [f"- {note}" for note in NOTES]
    lines += ["", "Machine:", ""] + [f"- {k}: {v}" for k, v in info.items()]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    """A value for the markdown table ('-' when not measured)."""
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def main() -> None:
    """Measure every pair, print and save."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="samples per side")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    info, rows = machine(), []
    plan = [("mnist", METRICS), ("fashion-mnist", METRICS),
            ("stacked-mnist", ("fid", "kid", "modes"))]
    for dataset, metrics in plan:
        for label, real, fake in pairs(dataset, args.n, args.seed):
            start = time.perf_counter()
            report = evaluate(fake, real, EvalOptions(metrics=metrics, n=args.n, seed=args.seed))
            rows.append(row(dataset, label, report))
            print(f"{dataset:14s} {label:24s} {time.perf_counter() - start:6.1f} s  "
                  + "  ".join(f"{k}={_cell(v)}" for k, v in rows[-1]["values"].items()),
                  flush=True)
    command = f"nice python benchmarks/metrics_floor.py --n {args.n} --seed {args.seed}"
    record = {"benchmark": "metrics_floor", "command": command, "machine": info,
              "notes": list(NOTES), "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "metrics_floor.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / "metrics_floor.md").write_text(markdown(rows, info, command))
    print(f"Wrote {RESULTS / 'metrics_floor.json'} and {RESULTS / 'metrics_floor.md'}")


if __name__ == "__main__":
    main()
