"""`kfact bench`: throughput ratios measured in one run on the same text.

Stages: Kiwi tokenization alone (the floor); the entity model alone (the kfact_ner component over
already tokenized Docs, one thread) under PyTorch, ONNX Runtime fp32 and ONNX Runtime int8; then the
full pipeline through the batch runner with 1 worker and with 2, per entity model backend; and one big
article (the same text joined, 1 M characters by default) through one worker, for peak memory. Reports
chars/s, the ratios the targets are stated in, and peak RSS.
"""
from __future__ import annotations

import json
import os
import re
import platform
import resource
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.ner.onnx_export import FP32_NAME, INT8_NAME


@dataclass
class BenchResult:
    stage: str
    chars: int
    seconds: float
    peak_rss_mb: float
    # Batch-runner stages: seconds until the first batch was written (worker start-up and model loading
    # included), and the rate after it.
    first_batch_seconds: float | None = None
    after_first_batch_cps: float | None = None

    @property
    def chars_per_second(self) -> float:
        return self.chars / max(self.seconds, 1e-9)


def _runner_result(stage: str, chars: int, summary, peak_mb: float) -> BenchResult:
    after = None
    if summary.first_batch_seconds is not None and summary.seconds > summary.first_batch_seconds:
        after = (summary.chars - summary.first_batch_chars) / (summary.seconds - summary.first_batch_seconds)
    return BenchResult(stage, chars, summary.seconds, peak_mb, summary.first_batch_seconds, after)


def bench_corpus(target_chars: int, sources: list[Path]) -> list[dict]:
    """News text from the shared corpora (one article per record), repeated up to target_chars."""
    from pipeline.io.corpora.news_csv import csv_texts

    texts: list[str] = []
    for source in sources:
        if source.suffix == ".csv":
            texts.extend(csv_texts(source))
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


# Entity model runtimes: name -> the ONNX file it needs (None: the torch weights).
BACKENDS = {"torch": None, "onnx": FP32_NAME, "onnx-int8": INT8_NAME}


def backend_overrides(backend: str, onnx_dir: Path | None) -> dict:
    """kfact_ner config overrides for a bench backend name."""
    graph = BACKENDS[backend]
    if graph is None:
        return {"components.kfact_ner.backend": "torch"}
    return {"components.kfact_ner.backend": "onnx", "components.kfact_ner.onnx_path": str(Path(onnx_dir) / graph)}


def _entity_model_stages(records: list[dict], model_path: str | None, onnx_dir: Path | None,
                         backends: tuple[str, ...]) -> list[BenchResult]:
    """The kfact_ner component alone, per backend, on Docs tokenized (and noise-marked) beforehand.

    Runs in this process with one thread, like a bench worker; peak RSS is this process's so far.
    """
    import torch

    from pipeline.nlp import load_pipeline, run_components

    torch.set_num_threads(1)
    chars = sum(len(r["text"]) for r in records)
    results = []
    docs = None
    for backend in backends:
        nlp = load_pipeline(model_path, with_linker=False, config_overrides=backend_overrides(backend, onnx_dir))
        names = nlp.pipe_names
        before = names[:names.index("kfact_ner")]
        if docs is None:
            docs = run_components(nlp, [nlp.make_doc(r["text"]) for r in records], before)
        ner = nlp.get_pipe("kfact_ner")
        list(ner.pipe(docs[:2]))  # warm-up: first-call allocations are start-up, not throughput
        started = time.perf_counter()
        for _ in ner.pipe(docs):
            pass
        results.append(BenchResult(f"entity model alone, {backend}", chars, time.perf_counter() - started,
                                   _self_peak_mb()))
    return results


def run_bench(records: list[dict], model_path: str | None, workers: tuple[int, ...] = (1, 2),
              model_backends: tuple[str, ...] = tuple(BACKENDS), full_backends: tuple[str, ...] = ("torch",),
              onnx_dir: Path | None = None, big_article_chars: int = 0,
              peer_encoder: str | Path | None = None, fast_linker: bool = False) -> list[BenchResult]:
    """All stages on the same records. ONNX graphs are exported to a temporary directory (untimed)
    unless `onnx_dir` already holds them. `fast_linker` adds 1-worker stages with `--linker fast` (the static
    piece table instead of the linker's e5 passes)."""
    from pipeline.runtime.batch import BatchOptions, run_batch
    from pipeline.components.tokenizer import get_kiwi, kiwi_pieces
    from pipeline.paths import linker_overrides

    chars = sum(len(r["text"]) for r in records)
    results = []
    kiwi = get_kiwi()
    started = time.perf_counter()
    for record in records:
        kiwi_pieces(record["text"], kiwi)
    results.append(BenchResult("kiwi tokenization alone", chars, time.perf_counter() - started, _self_peak_mb()))

    with tempfile.TemporaryDirectory() as tmp:
        needs_onnx = any(BACKENDS[b] for b in (*model_backends, *full_backends))
        if needs_onnx and onnx_dir is None:
            from pipeline.paths import resolve_model
            from pipeline.ner.onnx_export import export_onnx

            onnx_dir = Path(tmp) / "onnx"
            export_onnx(resolve_model(model_path), onnx_dir,
                        quantize=any(BACKENDS[b] == INT8_NAME for b in (*model_backends, *full_backends)))
        inp = Path(tmp) / "bench.jsonl"
        inp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        # Worker stages first, so they get a quiet parent. RUSAGE_CHILDREN is a running maximum, so the
        # (smaller) ONNX workers go before the torch ones: each stage's peak is then its own or a lighter one's.
        for backend in sorted(full_backends, key=lambda b: b == "torch"):
            # (workers, --linker name): the default linker at each worker count, then 1 worker with the fast one
            for n, linker in [(n, None) for n in workers] + ([(1, "fast")] if fast_linker else []):
                out = Path(tmp) / f"out-{backend}-{n}-{linker or 'default'}.jsonl"
                # Every stage runs in spawned single-thread workers, so N workers compare with 1 fairly;
                # the reported RSS is the largest worker's peak so far (start-up and model loading included).
                summary = run_batch([inp], BatchOptions(output=out, model_path=model_path, workers=n, batch_size=16,
                                                        spawn_workers=True, dedupe_texts=False,  # text repeats on purpose
                                                        config_overrides=backend_overrides(backend, onnx_dir)
                                                        | linker_overrides(linker)))
                peak = _children_peak_mb()
                name = full_stage_name(n, backend) + (FAST_LINKER if linker else "")
                results.append(_runner_result(name, chars, summary, peak))
            if big_article_chars:
                results.append(_big_article_stage(records, big_article_chars, model_path, Path(tmp), backend, onnx_dir))
        results.extend(_entity_model_stages(records, model_path, onnx_dir, model_backends))
    if peer_encoder is not None:
        results.append(_peer_stage(records, peer_encoder))
    return results


BIG_ARTICLE_STAGE = "one big article, 1 worker"
FAST_LINKER = ", --linker fast"


def _big_article_stage(records: list[dict], chars: int, model_path: str | None, tmp: Path, backend: str,
                       onnx_dir: Path | None) -> BenchResult:
    """The bench text joined into one article of `chars` characters, through the batch runner with
    max_chars raised: memory must stay bounded by the limits, not by the article."""
    from pipeline.runtime.batch import BatchOptions, run_batch

    parts, total, i = [], 0, 0
    while total < chars:
        text = records[i % len(records)]["text"]
        parts.append(text)
        total += len(text) + 2
        i += 1
    article = "\n\n".join(parts)[:chars]
    inp, out = tmp / "big.jsonl", tmp / f"big-{backend}.jsonl"
    inp.write_text(json.dumps({"id": "big", "text": article, "published": "2024-01-01"}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    summary = run_batch([inp], BatchOptions(output=out, model_path=model_path, workers=1, spawn_workers=True,
                                            max_chars=chars + 1, dedupe_texts=False,
                                            config_overrides=backend_overrides(backend, onnx_dir)))
    name = BIG_ARTICLE_STAGE if backend == "torch" else f"{BIG_ARTICLE_STAGE}, {backend}"
    return BenchResult(name, len(article), summary.seconds, _children_peak_mb())


def full_stage_name(workers: int, backend: str = "torch") -> str:
    name = f"full pipeline, {workers} worker{'s' if workers > 1 else ''}"
    return name if backend == "torch" else f"{name}, {backend}"


TARGETS = {"full_1_worker / kiwi_alone": ">= 0.5", "full_2_workers / full_1_worker": ">= 1.8",
           "peak_rss_mb per worker": "<= 1500", "big_article_peak_rss_mb": "<= 1500"}


PEER_STAGE = "BERT-base peer, model alone"


def _peer_stage(records: list[dict], encoder_path: str | Path) -> BenchResult:
    """What a user would otherwise run: a BERT-base token classifier (12 layers, hidden 768, the size of
    klue/roberta-base) over the same text, model only, one thread. Random weights, since throughput does not
    depend on them; pieces from the e5 tokenizer (a Korean SentencePiece vocabulary), in windows of 254
    pieces, batched 8 at a time by length, as an efficient user would."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_path))
    torch.manual_seed(0)
    model = BertForTokenClassification(BertConfig(vocab_size=len(tokenizer), hidden_size=768, num_hidden_layers=12,
                                                  num_attention_heads=12, intermediate_size=3072,
                                                  num_labels=19)).eval()
    windows = []
    for record in records:
        ids = tokenizer(record["text"], add_special_tokens=False)["input_ids"]
        windows += [ids[i:i + 254] for i in range(0, len(ids), 254)]
    windows.sort(key=len)
    cls, sep, pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
    started = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(windows), 8):
            chunk = [[cls, *w, sep] for w in windows[start:start + 8]]
            width = max(len(w) for w in chunk)
            ids = torch.tensor([w + [pad] * (width - len(w)) for w in chunk])
            mask = torch.tensor([[1] * len(w) + [0] * (width - len(w)) for w in chunk])
            model(input_ids=ids, attention_mask=mask)
    chars = sum(len(r["text"]) for r in records)
    return BenchResult(PEER_STAGE, chars, time.perf_counter() - started, _self_peak_mb())


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
        if one.after_first_batch_cps and two.after_first_batch_cps:
            # where the wall-clock ratio goes: start-up is paid once per run, whatever the corpus
            ratios["full_2_workers / full_1_worker, after the first batch"] = (two.after_first_batch_cps
                                                                              / one.after_first_batch_cps)
    for backend in BACKENDS:
        if backend == "torch":
            continue
        one_b, two_b = by_stage.get(full_stage_name(1, backend)), by_stage.get(full_stage_name(2, backend))
        if one_b:
            ratios[f"full_1_worker_{backend} / kiwi_alone"] = one_b.chars_per_second / kiwi
        if one_b and two_b:
            ratios[f"full_2_workers_{backend} / full_1_worker_{backend}"] = two_b.chars_per_second / one_b.chars_per_second
    for backend in BACKENDS:
        fast = by_stage.get(full_stage_name(1, backend) + FAST_LINKER)
        if fast:
            name = "full_1_worker" if backend == "torch" else f"full_1_worker_{backend}"
            ratios[f"{name}_fast_linker / kiwi_alone"] = fast.chars_per_second / kiwi
    torch_alone = by_stage.get("entity model alone, torch")
    for backend in BACKENDS:
        alone = by_stage.get(f"entity model alone, {backend}")
        if alone:
            ratios[f"model_{backend} / kiwi_alone"] = alone.chars_per_second / kiwi
        if alone and torch_alone and backend != "torch":
            ratios[f"model_{backend} / model_torch"] = alone.chars_per_second / torch_alone.chars_per_second
    peer = by_stage.get(PEER_STAGE)
    if peer:
        for stage in results:
            if stage.stage.startswith(("full pipeline", "entity model alone")):
                name = stage.stage.replace("full pipeline, ", "full_").replace("entity model alone, ", "model_")
                name = re.sub(r"[ ,]+", "_", name)  # "full_1_worker_onnx-int8", as in the other ratios
                ratios[f"{name} / bert_base_peer"] = stage.chars_per_second / peer.chars_per_second
    big = next((r for r in results if r.stage.startswith(BIG_ARTICLE_STAGE)), None)
    if big:
        ratios["big_article_peak_rss_mb"] = big.peak_rss_mb
        if one:
            ratios["big_article / full_1_worker"] = big.chars_per_second / one.chars_per_second
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "stages": [asdict(r) | {"chars_per_second": round(r.chars_per_second),
                                "after_first_batch_cps": round(r.after_first_batch_cps) if r.after_first_batch_cps else None,
                                "first_batch_seconds": round(r.first_batch_seconds, 2) if r.first_batch_seconds else None}
                   for r in results],
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
        "targets": {**TARGETS, **{name.replace("1_worker", f"1_worker_{b}").replace("2_workers", f"2_workers_{b}"): target
                                  for b in BACKENDS if b != "torch" for name, target in TARGETS.items()
                                  if name.startswith("full")}},
    }
