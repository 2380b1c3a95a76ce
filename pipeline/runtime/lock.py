"""One writer per output: an advisory lock on OUT.lock beside the output, held for the whole run.

flock is released by the kernel when its holder dies, so a lock file left by a killed run is stale by
construction and the next run takes it over; a live holder is refused with its pid."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class OutputLocked(RuntimeError):
    """Another live process writes the same output."""


def lock_path(output: Path) -> Path:
    return output.with_name(output.name + ".lock")


@contextmanager
def exclusive_output(output: Path) -> Iterator[Path]:
    path = lock_path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise OutputLocked(f"{output} is being written by another kfact run (pid {holder}; lock {path}); "
                               f"wait for it, or choose another output") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        try:
            yield path
        finally:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
    finally:
        os.close(fd)  # releases the flock
