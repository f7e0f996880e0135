"""Console output in the format users of the classic GAN scripts know, plus a progress bar
when attached to a terminal (none in CI logs)."""

from __future__ import annotations

import os
import sys

from tqdm import tqdm


def use_progress_bar() -> bool:
    """A bar only on an interactive terminal, never under CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class Console:
    """Prints log lines (through the bar when there is one)."""

    def __init__(self, total_steps: int, initial: int = 0, quiet: bool = False) -> None:
        self.quiet = quiet
        self.bar = None
        if use_progress_bar() and not quiet:
            self.bar = tqdm(total=total_steps, initial=initial, unit="step", dynamic_ncols=True)

    def write(self, line: str) -> None:
        """Print one line without breaking the bar."""
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(line)
        else:
            print(line, flush=True)

    def batch(self, epoch: int, epochs: int, i: int, n: int, d: float | None, g: float | None
              ) -> None:
        """`[Epoch 49/50] [Batch 100/469] [D loss: 0.4937] [G loss: 1.4479]`."""
        d_text, g_text = (f"{v:.4f}" if v is not None else "n/a" for v in (d, g))
        self.write(f"[Epoch {epoch}/{epochs}] [Batch {i}/{n}] [D loss: {d_text}] "
                   f"[G loss: {g_text}]")

    def epoch_end(self, epoch: int, seconds: float, avg_g: float, avg_d: float) -> None:
        """`Epoch 49 completed in 11.09 seconds` and the epoch's average losses."""
        self.write(f"Epoch {epoch} completed in {seconds:.2f} seconds")
        self.write(f"Average G loss: {avg_g:.4f}, Average D loss: {avg_d:.4f}")

    def advance(self, d: float | None, g: float | None) -> None:
        """Move the bar one step."""
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(d="-" if d is None else f"{d:.3f}",
                                 g="-" if g is None else f"{g:.3f}", refresh=False)

    def close(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()
