"""One writer per run folder: `run.lock` holds the owner's PID under an advisory `flock`.

The kernel drops a `flock` when its process dies, however it dies (SIGKILL included), so a lock
file left by a killed process is simply taken over; the PID in it only names the owner in the
messages. On systems without `fcntl` (Windows) the lock is a no-op.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ganforge.errors import RunError
from ganforge.train.checkpoint import guard_write

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "run.lock"


def _owner(path: Path) -> dict[str, Any]:
    """What the lock file says about its owner ({} when unreadable)."""
    try:
        data = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class RunLock:
    """`with RunLock(folder):` — exclusive use of a run folder by this process."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_NAME
        self._file: IO[str] | None = None
        self.took_over: dict[str, Any] = {}  # the previous owner, when its lock was left behind

    def acquire(self) -> RunLock:
        """Take the lock or raise a one-line RunError naming the process that holds it."""
        if fcntl is None:
            return self
        while True:
            with guard_write(self.path):
                self.root.mkdir(parents=True, exist_ok=True)
                f = self.path.open("a+")
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                raise self._busy() from None
            if self._still_ours(f):
                break
            f.close()  # the owner removed the file between our open and our lock: retry
        self.took_over = _owner(self.path)
        self._file = f
        with guard_write(self.path):
            f.seek(0)
            f.truncate()
            json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                       "since": time.strftime("%Y-%m-%dT%H:%M:%S")}, f)
            f.flush()
        return self

    def _still_ours(self, f: IO[str]) -> bool:
        """The locked file is still the one at `self.path` (not unlinked by a finishing owner)."""
        try:
            return os.stat(self.path).st_ino == os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            return False

    def _busy(self) -> RunError:
        owner = _owner(self.path)
        who = f"process {owner['pid']}" if "pid" in owner else "another process"
        where = f" on {owner['host']}" if owner.get("host") else ""
        since = f" since {owner['since']}" if owner.get("since") else ""
        return RunError(f"run folder '{self.root}' is in use by {who}{where}{since} (lock file "
                        f"{self.path}); wait for it to finish or stop it, then try again")

    def release(self) -> None:
        """Remove the lock file and drop the lock."""
        if self._file is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            self._file.close()  # closing drops the flock
            self._file = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
