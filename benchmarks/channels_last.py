"""Where channels-last pays, network by network: forward + backward time of the DCGAN G and D of
benchmarks/speed.py (width 64, batch 64, MNIST-sized 1-channel images) at 28 and 64 px, with the
weights and inputs contiguous (NCHW) and channels-last (NHWC), best of --rounds; and as
`ganforge train` computes them: NHWC, with G's noise -> 7x7 (4x4) transposed convolution done as
one matrix product (train/projection.py).

    nice .venv/bin/python benchmarks/channels_last.py [--rounds 6] [--threads 2]

`ganforge train` converts a whole conv model one way (`--channels-last auto`: on without
InstanceNorm); this takes the 28 px speed gap of results/speed.md apart: which network gains and
which loses, and what the projection adds. Writes results/channels_last.{json,md}.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from torch import nn

from common import save
from ganforge.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganforge.train.accel import set_threads
from ganforge.train.projection import use_projections

BATCH, LATENT, WIDTH = 64, 100, 64


def best_ms(steps: dict[str, Callable[[], None]], reps: int, rounds: int) -> dict[str, float]:
    """Each step's best over `rounds` of the mean time of `reps` calls, after two warm-up calls;
    the steps take turns round by round, so a slow spell of the machine (a shared host's speed
    drifts by 20 % over minutes) falls on all of them alike."""
    for step in steps.values():
        for _ in range(2):
            step()
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(reps):
                step()
            best[name] = min(best[name], (time.perf_counter() - start) / reps)
    return {name: 1000 * t for name, t in best.items()}


def steps(size: int, nhwc: bool, projection: bool = False) -> dict[str, Callable[[], None]]:
    """One forward + backward of G (from noise) and of D (on an image batch)."""
    torch.manual_seed(0)
    g, d = DCGANGenerator(LATENT, 1, size, WIDTH), DCGANDiscriminator(1, size, WIDTH)
    if projection:
        use_projections(g)
    x = torch.randn(BATCH, 1, size, size)
    if nhwc:
        fmt = torch.channels_last
        g.to(memory_format=fmt)  # type: ignore[call-overload]
        d.to(memory_format=fmt)  # type: ignore[call-overload]
        x = x.contiguous(memory_format=fmt)
    z = torch.randn(BATCH, LATENT)

    def run(net: nn.Module, inp: torch.Tensor) -> Callable[[], None]:
        def step() -> None:
            net.zero_grad(set_to_none=True)
            net(inp).float().square().mean().backward()
        return step

    # G's first layer alone: the noise -> 7x7 (4x4) transposed convolution
    return {"G": run(g, z), "D": run(d, x), "G[0]": run(g.net[0], z.view(BATCH, LATENT, 1, 1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", type=int, default=0, help="0: ganforge's default")
    args = parser.parse_args()
    threads = set_threads(args.threads)
    rows = []
    for size in (28, 64):
        reps = 20 if size == 28 else 4
        for net in ("G", "D", "G[0]"):
            ways = {"NCHW": steps(size, False)[net], "NHWC": steps(size, True)[net]}
            if net != "D":  # D has no 1x1-input transposed convolution: trained as NHWC
                ways["trainer"] = steps(size, True, projection=True)[net]
            ms = best_ms(ways, reps, args.rounds)
            ms.setdefault("trainer", ms["NHWC"])
            rows.append({"size": size, "network": net, "nchw_ms": round(ms["NCHW"], 1),
                         "nhwc_ms": round(ms["NHWC"], 1),
                         "nhwc_speedup": round(ms["NCHW"] / ms["NHWC"], 3),
                         "trainer_ms": round(ms["trainer"], 1),
                         "trainer_speedup": round(ms["NCHW"] / ms["trainer"], 3)})
            print(rows[-1], flush=True)
    save("channels_last", rows, list(rows[0]), "Channels-last per network: DCGAN G and D, "
         "forward + backward", f"Batch {BATCH}, width {WIDTH}, 1 channel, {threads} torch "
         f"threads; G from noise (B, {LATENT}), D on an image batch; G[0]: G's first layer "
         f"alone; loss: mean square of the output; best of {args.rounds} rounds (20 calls at "
         "28 px, 4 at 64 px, the ways taking turns round by round) after 2 warm-up calls. "
         "nhwc_speedup > 1: channels-last is faster for that network. trainer: as `ganforge "
         "train` runs it (NHWC; G's 1x1-input transposed convolution as a matrix product, "
         "train/projection.py; D as NHWC); trainer_speedup: against NCHW. `python "
         "benchmarks/channels_last.py`, run alone.")


if __name__ == "__main__":
    main()
