"""Ctrl-C handling: the first one finishes the current step and saves; a second one aborts."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class StopFlag:
    """Set when the user asked to stop."""

    def __init__(self) -> None:
        self.requested = False


@contextmanager
def graceful_interrupt() -> Iterator[StopFlag]:
    """Turn the first SIGINT into a flag the training loop checks after each step."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested = True
        print("\nInterrupted: finishing this step and saving a checkpoint "
              "(Ctrl-C again to abort without saving)", flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)
