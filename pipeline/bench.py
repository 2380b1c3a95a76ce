"""`kfact bench`: throughput ratios measured in one run on the same text.

Stages: Kiwi tokenization alone (the floor), then the full pipeline through the batch runner with
1 worker and with 2. Reports chars/s, the ratios the targets are stated in, and peak RSS.
"""
from __future__ import annotations

import json
import os
import platform
import resource
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class BenchResult:
    stage: str
    chars: int
    seconds: float
    peak_rss_mb: float

    @property
    def chars_per_second(self) -> float:
        return self.chars / max(self.seconds, 1e-9)


def bench_corpus(target_chars: int, sources: list[Path]) -> list[dict]:
    """News text from the shared corpora (one article per record), repeated up to target_chars."""
    import csv

    texts: list[str] = []
    for source in sources:
        if source.suffix == ".csv":
            with open(source, encoding="utf-8") as handle:
                texts.extend(row[3] for row in list(csv.reader(handle))[1:] if len(row) > 3 and row[3].strip())
        elif source.suffix == ".jsonl":
            with open(source, encoding="utf-8") as handle:
                texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    if not texts:
        raise FileNotFoundError(f"no text found in {sources}")
    records, total, i = [], 0, 0
    while total < target_chars:
        text = texts[i % len(texts)]
        records.append({"id": f"bench-{i}", "text": text, "published": "2024-01-01"})
        total += len(text)
        i += 1
    return records


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _self_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_bench(records: list[dict], model_path: str | None, workers: tuple[int, ...] = (1, 2)) -> list[BenchResult]:
    from pipeline.batch import BatchOptions, run_batch
    from pipeline.tokenizer import get_kiwi, kiwi_pieces

    chars = sum(len(r["text"]) for r in records)
    results = []
    kiwi = get_kiwi()
    started = time.perf_counter()
    for record in records:
        kiwi_pieces(record["text"], kiwi)
    results.append(BenchResult("kiwi tokenization alone", chars, time.perf_counter() - started, _self_peak_mb()))

    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "bench.jsonl"
        inp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        for n in workers:
            out = Path(tmp) / f"out{n}.jsonl"
            # Every stage runs in spawned single-thread workers, so N workers compare with 1 fairly;
            # the reported RSS is the largest worker's peak (start-up and model loading included).
            summary = run_batch([inp], BatchOptions(output=out, model_path=model_path, workers=n, batch_size=16,
                                                    spawn_workers=True))
            peak = _children_peak_mb()
            results.append(BenchResult(f"full pipeline, {n} worker{'s' if n > 1 else ''}", chars, summary.seconds, peak))
    return results


def report(results: list[BenchResult]) -> dict:
    by_stage = {r.stage: r for r in results}
    kiwi = by_stage["kiwi tokenization alone"].chars_per_second
    one = by_stage.get("full pipeline, 1 worker")
    two = by_stage.get("full pipeline, 2 workers")
    ratios = {}
    if one:
        ratios["full_1_worker / kiwi_alone"] = one.chars_per_second / kiwi
    if one and two:
        ratios["full_2_workers / full_1_worker"] = two.chars_per_second / one.chars_per_second
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "stages": [asdict(r) | {"chars_per_second": round(r.chars_per_second)} for r in results],
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
        "targets": {"full_1_worker / kiwi_alone": ">= 0.5", "full_2_workers / full_1_worker": ">= 1.8",
                    "peak_rss_mb per worker": "<= 1500"},
    }
