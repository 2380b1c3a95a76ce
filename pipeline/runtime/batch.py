"""The batch runner: inputs -> output JSONL + rejects JSONL, in input order, resumable.

Accounting invariant: read = written + rejected + already_done (skipped on --resume).
Each output line is written whole or not at all; a killed run leaves at most one partial
line, which --resume cuts off before continuing.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from pipeline.io.readers import Item, iter_items, line_bound
from pipeline.runtime.dedupe import text_hash
from pipeline.schema import Article, Claim, Entity, OutputRecord, Reject


class BatchError(RuntimeError):
    """A failure of the run itself (disk, workers), as opposed to one bad record."""


@dataclass
class BatchOptions:
    output: Path
    rejects: Path | None = None
    model_path: str | None = None
    resume: bool = False
    batch_size: int = 16
    workers: int = 1
    max_chars: int = 1_000_000
    with_claims: bool = True
    spawn_workers: bool = False  # run even a single worker in its own process (benchmarks compare like with like)
    dedupe_texts: bool = True  # reject an article whose whitespace-collapsed text equals an earlier one's
    near_duplicates: float | None = None  # MinHash Jaccard from which an article repeats an earlier one (None: off)
    # dotted spaCy config overrides for every worker, e.g. {"components.kfact_ner.backend": "onnx"}
    config_overrides: dict = field(default_factory=dict)

    def rejects_path(self) -> Path:
        return self.rejects or self.output.with_name(self.output.name + ".rejects.jsonl")


@dataclass
class Summary:
    read: int = 0
    written: int = 0
    rejected: int = 0
    already_done: int = 0
    chars: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    # When the first batch was settled and how many characters it held: start-up (workers loading their
    # models) is then told apart from the steady rate.
    first_batch_seconds: float | None = None
    first_batch_chars: int = 0
    # WARC records that are not articles (requests, metadata, non-HTML): counted here, outside `read`.
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.read == self.written + self.rejected + self.already_done


# -- Doc -> output record --------------------------------------------------------------------------

def doc_to_record(doc) -> OutputRecord:
    """The output record of a processed Doc; the article's fields come from `doc._.article`."""
    article = doc._.article
    entities = []
    for ent in doc.ents:
        fields = {"start": ent.start_char, "end": ent.end_char, "label": ent.label_, "text": ent.text}
        value = ent._.value
        if value is not None:
            fields.update({k: v for k, v in value.to_dict().items() if k in Entity.model_fields and k != "text"})
        entities.append(Entity(**fields))
    claims: list[Claim] = list(doc._.claims or [])
    noise = list(doc._.noise or [])
    return OutputRecord(id=article.id, published=article.published, title=article.title, url=article.url,
                        entities=entities, claims=claims, noise=noise, text_hash=text_hash(article.text))


# -- processing (runs in the main process or in a worker) -----------------------------------------

_NLP = None
_NLP_KEY: tuple | None = None  # what _NLP was loaded with: a later run_batch with another model reloads
_INIT_ERROR: str | None = None  # why this worker could not load the pipeline (see init_worker)


def _nlp_key(model_path: str | None, with_claims: bool, config_overrides: dict | None) -> tuple:
    return model_path, with_claims, repr(config_overrides or {})


def _die_with_parent() -> None:
    """A pool worker whose parent is killed would wait forever holding its models (GBs): on Linux, have the
    kernel kill it with its parent. Elsewhere the executor's own shutdown is all there is."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def init_worker(model_path: str | None, with_claims: bool, threads: int | None = None,
                defer_errors: bool = False, config_overrides: dict | None = None) -> None:
    """Load Kiwi and the model once per process.

    defer_errors (pool workers): a pool initializer that raises prints a traceback and breaks the pool as
    if the worker had died; instead keep the message and raise it as a BatchError from the first batch.
    """
    global _NLP, _NLP_KEY, _INIT_ERROR
    if defer_errors:
        _die_with_parent()
    if threads:
        import torch

        torch.set_num_threads(threads)
    from pipeline.nlp import load_pipeline

    try:
        _NLP = load_pipeline(model_path, with_linker=with_claims, config_overrides=config_overrides)
        _NLP_KEY = _nlp_key(model_path, with_claims, config_overrides)
    except Exception as error:  # noqa: BLE001 - reported whole by process_articles
        if not defer_errors:
            raise
        _INIT_ERROR = f"{type(error).__name__}: {error}"


def process_articles(articles: list[Article]) -> list[OutputRecord | Reject]:
    """One batch; if the batch fails, retry record by record so only the bad one is rejected."""
    if _INIT_ERROR is not None:  # a run failure, not a bad record: no record may be rejected for it
        raise BatchError(f"a worker could not load the pipeline: {_INIT_ERROR}")
    # Every new word of a Doc stays in the shared StringStore for the life of the process; over a crawl of
    # millions of articles that grows without bound. The zone evicts the batch's strings once its records
    # (plain pydantic objects, no Doc) are built.
    with _NLP.memory_zone():
        try:
            return [doc_to_record(doc) for doc in _pipe(articles)]
        except Exception:  # noqa: BLE001 - isolate the failing record below
            results: list[OutputRecord | Reject] = []
            for article in articles:
                try:
                    results.append(doc_to_record(next(iter(_pipe([article])))))
                except Exception as error:  # noqa: BLE001 - one bad record must not stop the batch
                    message = str(error).splitlines()[0][:200] if str(error) else ""
                    results.append(Reject(id=article.id, source="pipeline",
                                          reason=f"{type(error).__name__}: {message}"))
            return results


def _pipe(articles: list[Article]):
    from pipeline.nlp import pipe_articles

    return pipe_articles(_NLP, articles)


# -- output files ---------------------------------------------------------------------------------

class LineWriter:
    """Appends whole JSON lines; on a write error the partial line is cut off again."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.handle = open(path, "ab")

    def write(self, line: str) -> None:
        data = (line + "\n").encode("utf-8")
        position = self.handle.tell()
        try:
            self.handle.write(data)
            self.handle.flush()
        except OSError as error:
            try:
                self.handle.truncate(position)
            except OSError:
                pass
            raise BatchError(f"cannot write {self.path}: {error.strerror or error}; "
                             f"the file ends at the last complete record, rerun with --resume") from error

    def close(self) -> None:
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
        finally:
            self.handle.close()


def completed_lines(path: Path, hashes: dict[str, str] | None = None,
                    minhashes: dict[str, list[int]] | None = None) -> tuple[set[str], set[str]]:
    """Ids and sources already in an output or rejects file; a trailing partial line is cut off.

    `hashes`, if given, collects text_hash -> id of the output records (cross-article duplicates on --resume);
    `minhashes` collects id -> MinHash signature (near-duplicates on --resume).
    """
    ids, sources = set(), set()
    if not path.exists():
        return ids, sources
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with open(path, "r+b") as handle:
            handle.truncate(end)
    for raw in data[:end].splitlines():
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if record.get("id") is not None:
            ids.add(str(record["id"]))
        if record.get("source"):
            sources.add(record["source"])
        if hashes is not None and record.get("text_hash") and record.get("id") is not None:
            hashes.setdefault(record["text_hash"], str(record["id"]))
        if minhashes is not None and isinstance(record.get("minhash"), list) and record.get("id") is not None:
            minhashes.setdefault(str(record["id"]), record["minhash"])
    return ids, sources


# -- the run --------------------------------------------------------------------------------------

def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# An external engine: (screened batches, options, settle) -> None; see run_batch.
Engine = Callable[[Iterator[list[Item]], BatchOptions, Callable[[list[Item], list[OutputRecord | Reject]], None]], None]


def run_batch(inputs: list[str | Path], options: BatchOptions,
              on_progress: Callable[[Summary], None] | None = None, engine: Engine | None = None,
              on_record: Callable[[Article, OutputRecord], None] | None = None) -> Summary:
    """`engine` (e.g. pipeline.runtime.ray_engine) processes the screened batches in place of the local workers; it must
    call `settle(batch, results)` once per batch, in order, so writing, rejects and resume stay here.
    `on_record` sees every written record with its article, in input order (kfact annotate builds tasks there).
    The output is locked for the run (OUT.lock): a second run on it is refused with the holder's pid."""
    from pipeline.runtime.lock import OutputLocked, exclusive_output

    try:
        with exclusive_output(options.output):
            return _run_batch(inputs, options, on_progress, engine, on_record)
    except OutputLocked as error:
        raise BatchError(str(error)) from None


def _run_batch(inputs, options: BatchOptions, on_progress, engine, on_record) -> Summary:
    summary = Summary()
    started = time.perf_counter()
    rejects_path = options.rejects_path()
    if not options.resume:
        for path in (options.output, rejects_path):
            if path.exists():
                path.unlink()
    done_ids, done_sources = set(), set()
    seen_hashes: dict[str, str] = {}  # text_hash -> id of the first article with that text
    near, signatures = None, {}  # MinHash index; id -> signature until the record is written
    if options.near_duplicates:
        from pipeline.runtime.dedupe import NearDuplicateIndex

        near = NearDuplicateIndex(options.near_duplicates)
    if options.resume:
        for path in (options.output, rejects_path):
            ids, sources = completed_lines(path, seen_hashes, signatures if near is not None else None)
            done_ids |= ids
            done_sources |= sources
    if near is not None:
        for done_id, signature in signatures.items():  # file order = the order they were first seen
            near.add(done_id, signature)
        signatures.clear()
    out, rej = LineWriter(options.output), LineWriter(rejects_path)
    seen_ids: dict[str, str] = {}

    def reject(item_reject: Reject) -> None:
        rej.write(item_reject.model_dump_json())
        summary.rejected += 1
        key = item_reject.reason.split(":")[0]
        summary.reasons[key] = summary.reasons.get(key, 0) + 1

    def screened(items: Iterable[Item]) -> Iterator[Item]:
        """Resume skips, duplicate ids and oversize texts are settled before any model runs."""
        for item in items:
            if item.skipped is not None:
                summary.skipped[item.skipped] = summary.skipped.get(item.skipped, 0) + 1
                continue
            summary.read += 1
            record_id = item.article.id if item.article else (item.reject.id if item.reject else None)
            if options.resume and (item.source in done_sources or
                                   (record_id is not None and record_id in done_ids and item.article is not None
                                    and record_id not in seen_ids)):
                summary.already_done += 1
                if record_id is not None:
                    seen_ids.setdefault(record_id, item.source)
                continue
            if item.reject is not None:
                reject(item.reject)
                continue
            article = item.article
            if article.id in seen_ids:
                reject(Reject(id=article.id, source=item.source, reason=f"duplicate id: first seen at {seen_ids[article.id]}"))
                continue
            seen_ids[article.id] = item.source
            if len(article.text) > options.max_chars:
                reject(Reject(id=article.id, source=item.source,
                              reason=f"text too long: {len(article.text)} chars > max_chars {options.max_chars}"))
                continue
            digest = text_hash(article.text) if article.text.strip() and options.dedupe_texts else None
            if digest in seen_hashes:
                reject(Reject(id=article.id, source=item.source, reason=f"duplicate text: same as {seen_hashes[digest]}"))
                continue
            if digest is not None:
                seen_hashes[digest] = article.id
            if near is not None and digest is not None:
                signature = near.signature(article.text)
                hit = near.find(signature)
                if hit is not None:
                    reject(Reject(id=article.id, source=item.source,
                                  reason=f"near-duplicate text: like {hit[0]} (estimated Jaccard {hit[1]:.2f})"))
                    continue
                near.add(article.id, signature)
                signatures[article.id] = signature
            yield item

    def settle(batch: list[Item], results: list[OutputRecord | Reject]) -> None:
        for item, result in zip(batch, results):
            if isinstance(result, Reject):
                signatures.pop(item.article.id, None)
                reject(Reject(id=result.id, source=item.source, reason=result.reason))
            else:
                if near is not None:
                    result.minhash = signatures.pop(result.id, None)
                out.write(result.model_dump_json(exclude_none=False))
                if on_record is not None:
                    on_record(item.article, result)
                summary.written += 1
                summary.chars += len(item.article.text)
        summary.seconds = time.perf_counter() - started
        if summary.first_batch_seconds is None:
            summary.first_batch_seconds, summary.first_batch_chars = summary.seconds, summary.chars
        if on_progress:
            on_progress(summary)

    try:
        batches = _batches(screened(iter_items(inputs, line_bound(options.max_chars))), options.batch_size)
        if engine is not None:
            engine(batches, options, settle)
        elif options.workers <= 1 and not options.spawn_workers:
            if _NLP is None or _NLP_KEY != _nlp_key(options.model_path, options.with_claims, options.config_overrides):
                init_worker(options.model_path, options.with_claims, config_overrides=options.config_overrides)
            for batch in batches:
                settle(batch, process_articles([i.article for i in batch]))
        else:
            _run_parallel(batches, options, settle)
    finally:
        out.close()
        rej.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _run_parallel(batches: Iterator[list[Item]], options: BatchOptions, settle) -> None:
    """Ordered, bounded fan-out: at most 2 batches in flight per worker, so memory stays flat."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # transformers can hang under fork
    with ProcessPoolExecutor(options.workers, mp_context=context, initializer=init_worker,
                             initargs=(options.model_path, options.with_claims, 1, True,
                                       options.config_overrides)) as pool:
        pending: deque = deque()
        try:
            for batch in batches:
                pending.append((batch, pool.submit(process_articles, [i.article for i in batch])))
                while len(pending) >= 2 * options.workers:
                    done_batch, future = pending.popleft()
                    settle(done_batch, future.result())
            while pending:
                done_batch, future = pending.popleft()
                settle(done_batch, future.result())
        except BrokenProcessPool as error:
            raise BatchError("a worker process died (killed or out of memory); the output holds every record "
                             "finished before it; rerun with --resume to complete the batch") from error
