"""ganforge's trainer against the plain PyTorch DCGAN loop on the same networks (issue 10).

    python benchmarks/speed.py [--only speed|quality|ttq] [--quick] [--device cpu|cuda]

speed   images/s of the canonical DCGAN loop (pytorch/examples' dcgan/main.py, written out in
        `plain_steps`: one G forward whose fake serves D's and G's updates, BCE, Adam 2e-4
        (0.5, 0.999), `.item()` of the logged values every step) and of `ganforge train dcgan` at
        its best settings, on the same networks (ganforge's DCGAN G and D, ngf = ndf = 64,
        DCGAN init), batch 64, MNIST at 64x64 and 28x28, for each precision; ratio = ganforge /
        plain. Both run in this one process: on a CPU step by step in turn, on CUDA alternately
        in rounds, best of --rounds.
quality classifier-feature FID (the committed MNIST classifier) of `dcgan` after equal steps in
        fp32 and bf16, three seeds each: bf16 should lie within the fp32 seeds' range.
ttq     time to quality: wall minutes for the default `dcgan` at its best settings, and for the
        plain loop, to reach MNIST classifier-FID --target, scored on snapshots every --every
        steps (scoring time not counted); the easier --also targets from the same curves, and
        the curves in results/speed_ttq.png.

Each section's rows replace only that section in results/speed.{json,md} (machine and date per
section); finished runs under benchmarks/runs/speed/ are reused, so an interrupted run continues.
--quick: tiny settings that only prove the script works (results/speed_quick.*, not figures).
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

import ganforge
from common import RESULTS, machine
from ganforge.data import load_dataset
from ganforge.nets.dcgan import DCGANGenerator
from ganforge.train.accel import set_threads
from ganforge.train.run import RunDir
from ganforge.train.session import resolve_device
from plain_dcgan import BATCH, LATENT, PlainDCGAN, batches

RUNS = Path(__file__).resolve().parent / "runs" / "speed"


@dataclass
class Settings:
    """What one invocation measures (the full benchmark, or --quick's tiny version)."""

    sizes: tuple[int, ...]
    precisions: tuple[str, ...]
    width: int
    steps: int
    rounds: int
    compile: bool
    quality_steps: int
    seeds: tuple[int, ...]
    n_fake: int
    n_real: int
    target: float
    every: int
    chunk: int
    max_steps: int
    also: tuple[float, ...]
    device: torch.device
    threads: int
    out: str


def settings(args: argparse.Namespace) -> Settings:
    """The measured settings from the command line (--quick shrinks everything)."""
    device = resolve_device(args.device)
    precisions = tuple(args.precisions.split(",")) if args.precisions else (
        ("fp32", "bf16", "fp16") if device.type == "cuda" else ("fp32", "bf16"))
    threads = set_threads(args.threads)
    if args.quick:
        return Settings((28,), precisions, 8, 3, 1, False, 3, (0,), 200, 1000, args.target,
                        2, 4, 4, tuple(args.also), device, threads, args.out or "speed_quick")
    return Settings(tuple(args.sizes), precisions, 64, args.steps, args.rounds,
                    not args.no_compile, args.quality_steps, (0, 1, 2), 10_000, 10_000,
                    args.target, args.every, args.chunk, args.max_steps, tuple(args.also),
                    device, threads, args.out or "speed")


# ----- speed ----------------------------------------------------------------------------------
def sync(device: torch.device) -> None:
    """Wait for the device, so a timer reads finished work."""
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_plain(images: Tensor, size: int, precision: str, s: Settings) -> float:
    """images/s of the plain loop over `steps` steps after `steps` + 1 warm-up steps."""
    loop, data = PlainDCGAN(size, s.width, precision, s.device), batches(images, 0)
    for _ in range(s.steps + 1):
        loop.step(next(data))
    sync(s.device)
    start = time.perf_counter()
    for _ in range(s.steps):
        loop.step(next(data))
    sync(s.device)
    return BATCH * s.steps / (time.perf_counter() - start)


def ganforge_options(s: Settings, precision: str, compiled: bool) -> dict[str, Any]:
    """`ganforge train dcgan` at its best settings (the defaults: channels-last, fused Adam, one
    fake batch a step for D and G; --compile where asked), without periodic checkpoints,
    pictures or checks in the timed steps."""
    return {"data": "mnist", "batch_size": BATCH, "width": s.width, "precision": precision,
            "compile": compiled, "device": s.device.type, "threads": s.threads,
            "checkpoint_every": 10**6, "sample_every": 10**6, "monitor_every": 0,
            "grid_size": 16, "quiet": True}


def timing_folder(size: int, precision: str, compiled: bool) -> Path:
    """A fresh run folder for one timing of `ganforge train dcgan`."""
    out = RUNS / "timing" / f"{size}-{precision}-{'compiled' if compiled else 'eager'}"
    shutil.rmtree(out, ignore_errors=True)
    return out


def time_ganforge(size: int, precision: str, compiled: bool, s: Settings) -> float:
    """images/s of `ganforge train dcgan` over `steps` steps after `steps` + 1 warm-up steps,
    from the step times in its log. With --log-every N the values are read (the device
    synchronised) after steps 1, N + 1 and 2N + 1, so the step after each of those starts on an
    idle device: the time from step N + 2 to step 2N + 2 is N whole steps, on a GPU too."""
    n = s.steps
    out = timing_folder(size, precision, compiled)
    ganforge.train("dcgan", image_size=size, steps=2 * n + 2, log_every=n, out=out,
                   **ganforge_options(s, precision, compiled))
    times = {r["step"]: r["time"] for r in RunDir(out).read_log() if "time" in r}
    return BATCH * n / (times[2 * n + 2] - times[n + 2])


def time_interleaved(images: Tensor, size: int, precision: str, compiled: bool, s: Settings
                     ) -> tuple[float, float]:
    """images/s of the plain loop and of `ganforge train dcgan`, run in turn step by step in this
    process: before each of ganforge's steps the plain loop takes one, so a slow spell of the
    machine falls on both alike. A ganforge iteration is timed from the end of a plain step to
    the start of the next (its step, its bookkeeping and the next batch); the first `steps` + 1
    pairs are warm-up. CPU only: the device is not synchronised inside ganforge's loop."""
    trainer = importlib.import_module("ganforge.train.trainer").Trainer
    loop, data = PlainDCGAN(size, s.width, precision, s.device), batches(images, 0)
    marks: list[tuple[float, float]] = []  # (plain step start, plain step end)
    original = trainer.train_step

    def train_step(self: Any, batch: Any) -> Any:
        start = time.perf_counter()
        loop.step(next(data))
        marks.append((start, time.perf_counter()))
        return original(self, batch)

    trainer.train_step = train_step
    try:
        ganforge.train("dcgan", image_size=size, steps=2 * s.steps + 2, log_every=10**6,
                       out=timing_folder(size, precision, compiled),
                       **ganforge_options(s, precision, compiled))
    finally:
        trainer.train_step = original
    timed = range(s.steps + 1, 2 * s.steps + 1)  # each closed by the next pair's start
    plain = [marks[i][1] - marks[i][0] for i in timed]
    ours = [marks[i + 1][0] - marks[i][1] for i in timed]
    return BATCH * len(plain) / sum(plain), BATCH * len(ours) / sum(ours)


def measure(loop: str, images: Tensor, size: int, precision: str, s: Settings) -> float:
    """images/s of one loop: "plain", "ganforge" or "ganforge --compile"."""
    if loop == "plain":
        return time_plain(images, size, precision, s)
    return time_ganforge(size, precision, loop.endswith("--compile"), s)


def speed(s: Settings) -> list[dict[str, Any]]:
    """Both loops at each size and precision: step by step in turn (CPU), or alternately in
    rounds of `steps` steps, best of `rounds` (CUDA, whose queue the step-by-step timing would
    have to drain)."""
    loops = ["plain", "ganforge"] + (["ganforge --compile"] if s.compile else [])
    rows = []
    for size in s.sizes:
        images = load_dataset("mnist", image_size=size).data  # uint8 (N, 1, size, size)
        for precision in s.precisions:
            if s.device.type == "cpu":
                rows += interleaved_rows(images, size, precision, loops[1:], s)
                continue
            best = dict.fromkeys(loops, 0.0)
            for _ in range(s.rounds):
                for loop in loops:
                    best[loop] = max(best[loop], measure(loop, images, size, precision, s))
                    print(f"  {size}px {precision} {loop}: {best[loop]:.1f} images/s", flush=True)
            rows += [{"size": size, "precision": precision, "loop": loop, "images_per_s":
                      round(ips, 1), "ratio_to_plain": round(ips / best["plain"], 3)}
                     for loop, ips in best.items()]
    return rows


def interleaved_rows(images: Tensor, size: int, precision: str, loops: list[str], s: Settings
                     ) -> list[dict[str, Any]]:
    """One row per loop, each ganforge loop timed step by step against its own plain loop (the
    plain row: the one paired with eager ganforge)."""
    rows: list[dict[str, Any]] = []
    for loop in loops:
        plain, ours = time_interleaved(images, size, precision, loop.endswith("--compile"), s)
        print(f"  {size}px {precision} {loop}: {ours:.1f} images/s, plain {plain:.1f}",
              flush=True)
        if not rows:
            rows.append({"size": size, "precision": precision, "loop": "plain",
                         "images_per_s": round(plain, 1), "ratio_to_plain": 1.0})
        rows.append({"size": size, "precision": precision, "loop": loop,
                     "images_per_s": round(ours, 1), "ratio_to_plain": round(ours / plain, 3)})
    return rows


# ----- FID --------------------------------------------------------------------------------------
class Judge:
    """Classifier-feature FID of a 28x28 DCGAN generator against the MNIST test set."""

    def __init__(self, s: Settings) -> None:
        from gan_bench import Scorer

        self.scorer, self.n = Scorer(s.n_real), s.n_fake

    @torch.no_grad()
    def fid(self, g: nn.Module) -> float:
        """FID of `n` samples of `g` (eval mode, fixed noise) on the CPU."""
        g = g.cpu().eval()
        z = torch.randn(self.n, LATENT, generator=torch.Generator().manual_seed(12345))
        images = torch.cat([g(z[i:i + 500]) for i in range(0, self.n, 500)])
        return round(self.scorer.fid(self.scorer.outputs(images)[0]), 2)

    def fid_of_file(self, path: Path, width: int) -> float:
        """FID of a ganforge generator weights file."""
        from safetensors.torch import load_file

        g = DCGANGenerator(LATENT, 1, 28, width)
        g.load_state_dict(load_file(str(path)))
        return self.fid(g)


def quality(s: Settings) -> list[dict[str, Any]]:
    """FID of `dcgan` after `quality_steps` steps, per precision and seed."""
    judge, rows = Judge(s), []
    for precision in s.precisions:
        for seed in s.seeds:
            out = RUNS / "quality" / f"{precision}-seed{seed}-{s.quality_steps}-w{s.width}"
            if not (out / "generator.safetensors").is_file():
                shutil.rmtree(out, ignore_errors=True)
                ganforge.train("dcgan", data="mnist", steps=s.quality_steps, seed=seed,
                               width=s.width, precision=precision, threads=s.threads,
                               device=s.device.type, out=out, quiet=True)
            fid = judge.fid_of_file(out / "generator.safetensors", s.width)
            rows.append({"precision": precision, "seed": seed, "steps": s.quality_steps,
                         "fid": fid})
            print(f"  {precision} seed {seed}: FID {fid}", flush=True)
    return rows


# ----- time to quality ------------------------------------------------------------------------
def ttq_folder(s: Settings) -> Path:
    """The measurement's state and runs: its own per results name, so --quick never touches
    (or restarts) the full measurement."""
    return RUNS / ("ttq" if s.out == "speed" else f"ttq-{s.out}")


def first_reaching(fids: dict[int, float], target: float) -> int | None:
    """The first scored step whose FID is at most `target`."""
    return next((step for step in sorted(fids) if fids[step] <= target), None)


def unfinished(st: dict[str, Any], s: Settings) -> bool:
    """A loop's time-to-quality measurement goes on: target not reached, steps left."""
    return first_reaching(_fids(st), s.target) is None and st["done"] < s.max_steps


def ttq_ganforge(s: Settings, judge: Judge, st: dict[str, Any], save: Callable[[], None]
                 ) -> None:
    """Train the default dcgan one more chunk (resuming), snapshots every `every` steps. A
    step's wall time: the earlier chunks' times (start to last step) plus its time in its
    chunk."""
    from ganforge.train.session import resume

    out = ttq_folder(s) / "ganforge"
    if unfinished(st, s):
        target, t0 = min(st["done"] + s.chunk, s.max_steps), time.time()
        if st["done"] == 0:
            shutil.rmtree(out, ignore_errors=True)
            ganforge.train("dcgan", data="mnist", steps=target, snapshot_every=s.every,
                           width=s.width, threads=s.threads, device=s.device.type, out=out,
                           quiet=True)
        else:
            resume(out, {"steps": target}, quiet=True)
        times = {r["step"]: r["time"] for r in RunDir(out).read_log()
                 if "time" in r}
        for step in range(st["done"] + s.every, target + 1, s.every):
            st["wall"][str(step)] = round(st["offset"] + times[step] - t0, 2)
            path = out / "snapshots" / f"step_{step:07d}" / "generator.safetensors"
            st["fids"][str(step)] = judge.fid_of_file(path, s.width)
        st["offset"] += times[target] - t0
        st["done"] = target
        save()


def ttq_plain(s: Settings, judge: Judge, st: dict[str, Any], save: Callable[[], None]
              ) -> None:
    """The plain loop one more chunk of `chunk` steps (its state saved between them), G scored
    every `every` steps."""
    path = ttq_folder(s) / "plain.pt"
    if unfinished(st, s):
        images = load_dataset("mnist").data
        t0 = time.time()
        loop = PlainDCGAN(28, s.width, "fp32", s.device)
        if st["done"]:
            loop.load_state_dict(torch.load(path, weights_only=True))
        data, snaps = batches(images, 0, st["done"]), {}
        target = min(st["done"] + s.chunk, s.max_steps)
        for i in range(st["done"] + 1, target + 1):
            loop.step(next(data))
            if i % s.every == 0:
                sync(s.device)
                snaps[i] = ({k: v.detach().cpu().clone() for k, v in loop.g.state_dict().items()},
                            time.time())
        trained = time.time()
        torch.save(loop.state_dict(), path)
        for step, (weights, when) in snaps.items():
            loop.g.load_state_dict(weights)
            st["wall"][str(step)] = round(st["offset"] + when - t0, 2)
            st["fids"][str(step)] = judge.fid(loop.g)
        st["offset"] += trained - t0
        st["done"] = target
        save()


def _fids(st: dict[str, Any]) -> dict[int, float]:
    return {int(k): v for k, v in st["fids"].items()}


def ttq(s: Settings) -> list[dict[str, Any]]:
    """Wall minutes to FID `target` for ganforge's dcgan and the plain loop (state kept in
    runs/speed/ttq/state.json, so an interrupted measurement continues; runs/speed/ttq-<out>/
    for another results name)."""
    path = ttq_folder(s) / "state.json"
    key = [s.target, s.every, s.chunk, s.width, str(s.device), "alternating chunks"]
    state = json.loads(path.read_text()) if path.is_file() else {}
    if state.get("settings") != key:
        state = {"settings": key}
    for name in ("ganforge", "plain"):
        state.setdefault(name, {"offset": 0.0, "done": 0, "fids": {}, "wall": {}})

    def save() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state, indent=1))

    judge = Judge(s)
    # chunk by chunk in turn, so a slow spell of the host falls on both loops alike
    while unfinished(state["ganforge"], s) or unfinished(state["plain"], s):
        ttq_ganforge(s, judge, state["ganforge"], save)
        ttq_plain(s, judge, state["plain"], save)
    plot_ttq(state, s.target, RESULTS / f"{s.out}_ttq.png")
    rows = []
    # the asked target first; easier ones from the same curves, for loops that miss it
    for target in (s.target, *sorted((t for t in s.also if t > s.target), reverse=True)):
        for name in ("ganforge", "plain"):
            st = state[name]
            step = first_reaching(_fids(st), target)
            rows.append({"loop": name, "target_fid": target, "steps": step,
                         "wall_min": round(st["wall"][str(step)] / 60, 2) if step else None,
                         "best_fid": min(st["fids"].values()), "steps_trained": st["done"]})
            print(f"  {name}: {rows[-1]}", flush=True)
    return rows


def plot_ttq(state: dict[str, Any], target: float, path: Path) -> None:
    """FID against wall minutes of training for both loops, and the target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    for name, mark in (("ganforge", "o-"), ("plain", "s-")):
        points = sorted(_fids(state[name]).items())
        ax.plot([state[name]["wall"][str(k)] / 60 for k, _ in points], [v for _, v in points],
                mark, ms=3, label=f"{name} (every {state['settings'][1]} steps)")
    ax.axhline(target, color="k", ls=":", lw=1, label=f"target FID {target:g}")
    ax.set(xlabel="wall minutes of training", ylabel="classifier-feature FID (log)",
           yscale="log", title="Time to quality: default dcgan on MNIST, CPU")
    ax.legend(fontsize=8)
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# ----- results ----------------------------------------------------------------------------------
SECTIONS: dict[str, tuple[Callable[[Settings], list[dict[str, Any]]], list[str], str]] = {
    "speed": (speed, ["size", "precision", "loop", "images_per_s", "ratio_to_plain"],
              "Throughput: ganforge's trainer against the plain DCGAN loop"),
    "quality": (quality, ["precision", "seed", "steps", "fid"],
                "Quality at equal steps: classifier-feature FID, fp32 against bf16"),
    "ttq": (ttq, ["loop", "target_fid", "steps", "wall_min", "best_fid", "steps_trained"],
            "Time to quality: wall minutes to MNIST classifier-FID target"),
}


def auto_why(s: Settings) -> str:
    """What --precision auto picks on this device, and why."""
    from ganforge.train.precision import resolve

    return resolve("auto", s.device)[1]


def notes(name: str, s: Settings) -> str:
    """How a section was measured, for its Markdown."""
    if name == "speed":
        return (f"Batch {BATCH}, width {s.width} (ngf = ndf), MNIST resized to each size, "
                f"{s.threads} torch threads, device {s.device} (--precision {auto_why(s)}); "
                f"images/s over {s.steps} steps after {s.steps + 1} warm-up steps; "
                + ("on a CPU the two loops take turns step by step in one process (a shared "
                   "host's speed drifts by 20 % over minutes: rounds of whole runs read the "
                   "drift as much as the loops); each --compile row against its own paired "
                   "plain steps. " if s.device.type == "cpu" else
                   f"best of {s.rounds} alternating rounds. ")
                + "plain: "
                "pytorch/examples' DCGAN loop (benchmarks/plain_dcgan.py); ganforge: `ganforge "
                "train dcgan` with its defaults (channels-last, G's noise -> 7x7 (4x4) transposed "
                "convolution as a matrix product, fused Adam, values read at the "
                "log interval, one G forward a step serving D's and G's updates as in the plain "
                "loop: --reuse-fake), checkpoints, pictures and monitor checks out of the timed "
                "steps; --compile rows: torch.compile on top.")
    if name == "quality":
        return (f"`ganforge train dcgan` (width {s.width}) for {s.quality_steps} steps per "
                f"seed; FID of {s.n_fake} samples (eval mode) against {s.n_real} MNIST test "
                "images in the committed mnist-classifier's features.")
    return (f"Default `dcgan` (width {s.width}) and the plain loop in fp32, scored every "
            f"{s.every} steps ({s.n_fake} samples), trained in chunks of {s.chunk} steps (the "
            f"loops taking turns chunk by chunk) up to "
            f"{s.max_steps}; wall time of training only (start-up included, scoring not). "
            f"Rows past the first pair: easier targets (--also) read from the same curves. "
            f"Curves: results/{s.out}_ttq.png.")


def write(out: str, name: str, rows: list[dict[str, Any]], s: Settings) -> None:
    """Replace section `name` in results/<out>.json and rewrite results/<out>.md."""
    path = RESULTS / f"{out}.json"
    body = json.loads(path.read_text()) if path.is_file() else {"sections": {}}
    body["sections"][name] = {"machine": machine(), "rows": rows, "notes": notes(name, s)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2))
    lines = ["# ganforge against a plain PyTorch DCGAN loop", ""]
    for key, section in body["sections"].items():
        columns, title = SECTIONS[key][1], SECTIONS[key][2]
        m = section["machine"]
        lines += [f"## {title}", "", f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores"
                  f"{', ' + m['gpu'] if 'gpu' in m else ''}), torch {m['torch']}.", "",
                  section["notes"], "", "| " + " | ".join(columns) + " |",
                  "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |"
                  for r in section["rows"]]
        lines.append("")
    (RESULTS / f"{out}.md").write_text("\n".join(lines))


def main() -> None:
    """Run the asked sections and save each as it ends."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=tuple(SECTIONS), action="append",
                        help="run this section (repeatable; default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny settings: proves it runs")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precisions", default="", help="e.g. fp32,bf16 (default: fp32,bf16; "
                        "on CUDA also fp16)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 28])
    parser.add_argument("--threads", type=int, default=0, help="0: ganforge's default")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-compile", action="store_true", help="skip the --compile rows")
    parser.add_argument("--quality-steps", type=int, default=3000)
    parser.add_argument("--target", type=float, default=20.0)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--max-steps", type=int, default=20_000)
    parser.add_argument("--also", type=float, nargs="*", default=[150.0, 100.0],
                        help="easier FID targets read from the same curves (ttq)")
    parser.add_argument("--out", default="", help="results name (default speed, speed_quick)")
    args = parser.parse_args()
    s = settings(args)
    for name in args.only or list(SECTIONS):
        print(f"== {name}", flush=True)
        write(s.out, name, SECTIONS[name][0](s), s)
    print(f"results: {RESULTS / s.out}.md", flush=True)


if __name__ == "__main__":
    main()
