"""Loggers that watch training without being part of it: the trainer tells each hook about
every step's values, every picture and every monitor event (TensorBoard is one)."""

from __future__ import annotations

from pathlib import Path

from ganforge.config import TrainConfig
from ganforge.monitor import FailureEvent
from ganforge.train.run import RunDir


class TrainHook:
    """What a hook may hear about; each method does nothing unless a hook overrides it."""

    def step(self, step: int, stats: dict[str, float], lrs: dict[str, float],
             clock: float | None = None) -> None:
        """The logged values of `step` and each optimiser's learning rate; `clock`: the
        time.perf_counter() when the step ended (the values reach hooks at the log interval)."""

    def picture(self, step: int, tag: str, path: Path) -> None:
        """A sample grid or preview figure was written to `path`."""

    def event(self, event: FailureEvent) -> None:
        """The monitor reported `event`."""

    def close(self) -> None:
        """Training stopped (completed, interrupted or failed): flush and release files."""


class Hooks(TrainHook):
    """All hooks of a run, called in turn."""

    def __init__(self, hooks: list[TrainHook]) -> None:
        self.hooks = hooks

    @classmethod
    def for_run(cls, cfg: TrainConfig, run: RunDir) -> Hooks:
        """The hooks the config asks for."""
        hooks: list[TrainHook] = []
        if cfg.tensorboard:
            from ganforge.train.tensorboard import TensorBoardHook

            hooks.append(TensorBoardHook(run.root / "tensorboard", cfg.batch_size))
        return cls(hooks)

    def step(self, step: int, stats: dict[str, float], lrs: dict[str, float],
             clock: float | None = None) -> None:
        for hook in self.hooks:
            hook.step(step, stats, lrs, clock)

    def picture(self, step: int, tag: str, path: Path) -> None:
        for hook in self.hooks:
            hook.picture(step, tag, path)

    def event(self, event: FailureEvent) -> None:
        for hook in self.hooks:
            hook.event(event)

    def close(self) -> None:
        for hook in self.hooks:
            hook.close()
