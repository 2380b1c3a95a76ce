"""`kfact extract --engine ray`: the same extractor, fanned out over a Ray cluster with Ray Data.

Split of work:
- The driver runs pipeline.runtime.batch.run_batch as usual, so reading and validation (pipeline.io.readers), duplicate
  ids, over-long texts, --resume, the rejects file, input-order output and the counts are exactly the local
  engine's. Reading is cheap next to the model (tens of MB/s against ~4,400 chars/s per core), so one driver
  can feed hundreds of actors.
- Only the model work moves to Ray: the screened batches go into Ray Data (`ray.data.from_items`) and a fixed
  pool of actors (`ray.data.ActorPoolStrategy`), each loading Kiwi and the model once, runs
  `pipeline.runtime.batch.process_articles` on whole runner batches. Same code, same batch composition, so every
  record is byte-identical to the local engine's.

Batches travel through the object store rather than being read on the workers with `read_json`, so a remote
cluster needs no shared filesystem and the driver's screening stays the single source of rejects. Ray Data
has no streaming source fed from the driver, so the input goes in windows of about `window_chars`
characters: the driver holds at most one window, and each window starts a fresh actor pool (one model load
per actor, ~10 s, amortized over ~2 M chars ≈ 8 min of work per actor by default). Results come back in any
order and are written in input order through a small reorder buffer.
"""
from __future__ import annotations

import logging
import os
import pickle
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from pipeline.runtime.batch import BatchError, BatchOptions, Engine, init_worker, process_articles
from pipeline.io.readers import Item
from pipeline.schema import OutputRecord, Reject

CHARS_PER_ACTOR_WINDOW = 2_000_000  # ≈ 8 minutes per actor at ~4,400 chars/s: a model load costs ~2 %


@dataclass
class RayOptions:
    address: str | None = None  # an existing cluster ("auto", "ray://host:10001"); None starts a local one
    num_cpus: int | None = None  # CPUs of the local cluster (default: all of this machine)
    actors: int | None = None  # pipeline actors, one CPU each (default: every CPU of the cluster)
    window_chars: int | None = None  # article characters per Ray Data run (default: 2 M per actor)


class ExtractActor:
    """One Ray actor: loads the pipeline once, then processes pickled runner batches."""

    def __init__(self, model_path: str | None, with_claims: bool, config_overrides: dict, threads: int = 1):
        # defer_errors: a model that fails to load fails the first batch with a BatchError naming the cause,
        # instead of Ray restarting the actor over and over.
        init_worker(model_path, with_claims, threads, defer_errors=True, config_overrides=config_overrides)

    def __call__(self, batch: dict) -> dict:
        results = [pickle.dumps(process_articles(pickle.loads(blob))) for blob in batch["articles"]]
        return {"pos": list(batch["pos"]), "results": results}


@contextmanager
def ray_session(options: RayOptions) -> Iterator[None]:
    """Connect to the given cluster or start a local one; shut down only what was started here."""
    # No usage reporting and no dashboard: both reach for the network or ports that may hang offline.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    started = False
    if not ray.is_initialized():
        if options.address:
            _check_reachable(options.address)
            ray.init(address=options.address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            # "local": always a fresh cluster of our own, never one that RAY_ADDRESS or `ray start` left around.
            ray.init(address="local", num_cpus=options.num_cpus or options.actors, include_dashboard=False,
                     logging_level=logging.WARNING, log_to_driver=False)
        started = True
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # kfact shows its own progress
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a HOST:PORT nobody listens on: ray.init would retry for minutes."""
    import socket

    match = re.fullmatch(r"(?:ray://)?\[?([^\]]+?)\]?:(\d+)", address.strip())
    if not match:  # "auto", "local": Ray resolves and reports these itself
        return
    try:
        socket.create_connection((match[1], int(match[2])), timeout=timeout).close()
    except OSError as error:
        raise ConnectionError(f"nothing answers at {match[1]}:{match[2]} ({error.strerror or error})") from error


def ray_engine(options: RayOptions) -> Engine:
    """An engine for pipeline.runtime.batch.run_batch; call it inside ray_session."""

    def run(batches: Iterator[list[Item]], batch_options: BatchOptions,
            settle: Callable[[list[Item], list[OutputRecord | Reject]], None]) -> None:
        import ray

        actors = options.actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        window_chars = options.window_chars or actors * CHARS_PER_ACTOR_WINDOW
        model_path = _absolute_model_path(batch_options.model_path)
        for window in _windows(batches, window_chars):
            _run_window(window, actors, settle, {"model_path": model_path, "with_claims": batch_options.with_claims,
                                                 "config_overrides": dict(batch_options.config_overrides)})

    return run


def _absolute_model_path(model_path: str | None) -> str | None:
    # Actors may start in another working directory; resolve relative paths as the local engine would.
    if model_path is None:
        return None
    from pipeline.paths import resolve_path

    return str(resolve_path(model_path).resolve())


def _windows(batches: Iterator[list[Item]], window_chars: int) -> Iterator[list[list[Item]]]:
    window: list[list[Item]] = []
    chars = 0
    for batch in batches:
        window.append(batch)
        chars += sum(len(item.article.text) for item in batch)
        if chars >= window_chars:
            yield window
            window, chars = [], 0
    if window:
        yield window


def _run_window(window: list[list[Item]], actors: int,
                settle: Callable[[list[Item], list[OutputRecord | Reject]], None], actor_kwargs: dict) -> None:
    import ray

    # One runner batch per row and per block, so the pool balances batch by batch.
    rows = [{"pos": pos, "articles": pickle.dumps([item.article for item in batch])} for pos, batch in enumerate(window)]
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        ExtractActor, fn_constructor_kwargs=actor_kwargs,
        batch_size=1, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=min(actors, len(rows))),
        num_cpus=1)
    pending: dict[int, bytes] = {}
    next_pos = 0
    try:
        for row in dataset.iter_rows():
            pending[int(row["pos"])] = row["results"]
            while next_pos in pending:
                settle(window[next_pos], pickle.loads(pending.pop(next_pos)))
                window[next_pos] = []  # settled: let the texts go
                next_pos += 1
    except (ray.exceptions.RayError, ray.data.exceptions.UserCodeException) as error:
        name, message = _user_error(error)
        if name.endswith("BatchError"):  # e.g. an actor could not load the model: say that, not Ray's wrapper
            raise BatchError(message) from error
        raise BatchError(f"the Ray run failed ({name}: {message[:300]}); the output holds every record "
                         "finished before it; rerun with --resume") from error
    if next_pos != len(window):
        raise BatchError(f"Ray returned {next_pos} of {len(window)} batches in order; rerun with --resume")


def _user_error(error: BaseException) -> tuple[str, str]:
    """The user-code exception inside Ray's wrappers. Ray passes it on only as traceback text, so read the
    first `module.Class: message` line that is not Ray's own."""
    for line in str(error).splitlines():
        match = re.match(r"([A-Za-z_][\w.]*(?:Error|Exception|Exit)): (.*)", line.strip())
        if match and not match[1].startswith("ray."):
            return match[1], match[2]
    return type(error).__name__, (str(error).strip().splitlines() or [""])[-1]
