"""Progress for `kfact extract`: a record total counted up front when that is cheap, so the bar can
show an ETA; on large or compressed inputs the total stays unknown and the bar shows the rate only.
"""
from __future__ import annotations

import gzip
from pathlib import Path

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from pipeline.io.readers import JSONL_SUFFIXES

COUNT_MAX_BYTES = 256_000_000  # counting lines reads the inputs once more; above this it is not cheap
COUNT_MAX_FILES = 200_000
UNCOUNTABLE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")  # records per archive are only known by parsing it


def count_records(inputs: list[Path], max_bytes: int = COUNT_MAX_BYTES, max_files: int = COUNT_MAX_FILES) -> int | None:
    """How many records the readers will yield (summary.read at the end of a run), or None if not cheap.

    Mirrors readers.iter_items: a non-blank JSONL line, any other file (.txt, .html, unsupported) and a
    missing path each count once; WARC archives make the total unknown. Gzip is charged at 4x its size
    against the byte budget, since it is read inflated, and counting stops when the inflated bytes pass the
    budget (a gzip bomb). Files are read in chunks, so a line without a newline is never held.
    """
    files: list[Path] = []
    total = 0
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            for child in path.rglob("*"):
                if child.is_file():
                    files.append(child)
                    if len(files) > max_files:
                        return None
        elif path.exists():
            files.append(path)
        else:
            total += 1  # becomes a reject, which is read
    budget = max_bytes
    for path in files:
        if path.name.lower().endswith(UNCOUNTABLE_SUFFIXES):
            return None
        if not path.name.lower().endswith(JSONL_SUFFIXES):
            total += 1
            continue
        try:
            size = path.stat().st_size * (4 if path.name.endswith(".gz") else 1)
            if size > budget:
                return None
            budget -= size
            opener = gzip.open if path.name.endswith(".gz") else open
            with opener(path, "rb") as handle:
                counted = _nonblank_lines(handle, max_bytes)
            if counted is None:
                return None
            total += counted
        except (OSError, EOFError, ValueError):
            return None  # a broken file is rejected during the run; its count is not knowable here
    return total


def _nonblank_lines(handle, max_bytes: int, chunk_size: int = 1 << 20) -> int | None:
    """Lines with anything but whitespace, read in chunks; None once more than max_bytes come out."""
    count, read, pending = 0, 0, False  # pending: the unfinished last line has content
    while chunk := handle.read(chunk_size):
        read += len(chunk)
        if read > max_bytes:
            return None
        *finished, rest = chunk.split(b"\n")
        for piece in finished:
            count += pending or bool(piece.strip())
            pending = False
        pending = pending or bool(rest.strip())
    return count + pending


def extract_progress(console: Console) -> Progress:
    """Bar with done/total, the description (counts, articles/s), elapsed time and remaining time."""
    return Progress(TextColumn("[bold]extract"), BarColumn(bar_width=None), MofNCompleteColumn(),
                    TextColumn("{task.description}"), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=console, transient=not console.is_terminal)
