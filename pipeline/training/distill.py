"""Distillation text for the fast student: the teacher entity model's predictions over unlabeled Korean text.

The teacher (by default the accurate model) labels documents of the corpora marked `distill = true` in
configs/corpora.toml; the records go to a JSONL file that the student's training reads as extra train
records (`[distill]` in its config). Hard labels, not logits: the student trains with the same loss and
code as on gold, and the file can be inspected and reused.

No annotated text is ever pseudo-labelled: a document that shares a sentence with any annotation file,
the blind split included, is left out whole, so that the student never sees dev, test or blind articles.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

SENTENCE_END = re.compile(r"(?<=[.?!다요음함됨임])\s+|\n+")
MIN_SENTENCE_CHARS = 15
DIGIT = re.compile(r"\d")


@dataclass
class DistillArguments:
    teacher: str = "accurate"
    corpora: str = "configs/corpora.toml"
    output: str = "out/distill/teacher.jsonl"
    # Which annotation files' text is never labelled (all splits, the blind one included).
    exclude_annotations: list[str] = field(default_factory=lambda: ["annotations/*.jsonl", "annotations/blind/*.jsonl"])
    # Per corpus: the most characters taken, and the share of documents considered (a stable hash of the
    # document id picks them, so that a large corpus is sampled across its whole span, not its first files).
    max_chars: dict[str, int] = field(default_factory=dict)
    sample_percent: dict[str, float] = field(default_factory=dict)
    # Per corpus: skip documents with fewer digits per 1,000 characters (press notices without statistics).
    min_digits_per_kchar: dict[str, float] = field(default_factory=dict)
    max_record_chars: int = 3000
    batch_size: int = 8


@dataclass
class DistillStats:
    documents: int = 0
    excluded_annotated: int = 0
    excluded_sample: int = 0
    excluded_sparse: int = 0
    records: int = 0
    chars: int = 0
    entities: int = 0
    per_corpus: dict[str, int] = field(default_factory=dict)


def normalized_sentences(text: str) -> Iterator[str]:
    for piece in SENTENCE_END.split(text):
        piece = " ".join(piece.split())
        if len(piece) >= MIN_SENTENCE_CHARS:
            yield piece


def annotated_sentences(patterns: Iterable[str]) -> set[str]:
    """Every sentence of every annotation record (read as plain JSON: the blind split is not validated or
    used here, only kept out)."""
    from glob import glob

    from pipeline.paths import resolve_path

    seen: set[str] = set()
    for pattern in patterns:
        for file in sorted(glob(str(resolve_path(pattern)))):
            with open(file, encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        seen.update(normalized_sentences(json.loads(line).get("text", "")))
    return seen


def stable_percent(key: str) -> float:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % 10_000 / 100


def chunk_paragraphs(paragraphs: list[str], max_chars: int) -> list[str]:
    """Paragraphs joined by newlines into texts of at most max_chars (a longer paragraph stays whole)."""
    chunks, current = [], []
    for paragraph in paragraphs:
        if current and sum(len(p) + 1 for p in current) + len(paragraph) > max_chars:
            chunks.append("\n".join(current))
            current = []
        current.append(paragraph)
    if current:
        chunks.append("\n".join(current))
    return chunks


def distill_texts(args: DistillArguments, stats: DistillStats) -> Iterator[tuple[str, str, str]]:
    """(record id, corpus, text) to label, in corpus order, within each corpus's budget."""
    from pipeline.io.corpora.unlabeled import corpus_documents, load_corpus_specs
    from pipeline.paths import resolve_path

    excluded = annotated_sentences(args.exclude_annotations)
    for spec in load_corpus_specs(resolve_path(args.corpora)):
        if not spec.distill:
            continue
        budget = args.max_chars.get(spec.name, 0) or float("inf")
        percent = args.sample_percent.get(spec.name, 100.0)
        min_digits = args.min_digits_per_kchar.get(spec.name, 0.0)
        taken = 0
        for doc_id, paragraphs in corpus_documents(spec):
            if taken >= budget:
                break
            stats.documents += 1
            key = f"{spec.name}:{doc_id}"
            if percent < 100 and stable_percent(key) >= percent:
                stats.excluded_sample += 1
                continue
            text = "\n".join(paragraphs)
            if not text.strip():
                continue
            if min_digits and len(DIGIT.findall(text)) * 1000 / len(text) < min_digits:
                stats.excluded_sparse += 1
                continue
            if any(sentence in excluded for sentence in normalized_sentences(text)):
                stats.excluded_annotated += 1
                continue
            for index, chunk in enumerate(chunk_paragraphs(paragraphs, args.max_record_chars)):
                taken += len(chunk)
                yield f"distill:{key}#{index}", spec.name, chunk


def teacher_record(record_id: str, corpus: str, doc) -> dict:
    """An annotation-shaped train record from a teacher Doc (entities only, no claims)."""
    return {"id": record_id, "text": doc.text, "split": "train", "source": corpus,
            "entities": [{"start": e.start_char, "end": e.end_char, "label": e.label_} for e in doc.ents]}


def label_corpora(args: DistillArguments, log: Callable[[str], None] = print, nlp=None) -> DistillStats:
    """Write the teacher's records to args.output, appending to what a killed run left (resumable)."""
    from pipeline.api import load
    from pipeline.nlp import pipe_articles
    from pipeline.paths import resolve_model, resolve_path
    from pipeline.runtime.batch import completed_lines
    from pipeline.schema import Article

    output = resolve_path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    meta_path = output.with_suffix(".meta.json")
    teacher_dir = resolve_model(args.teacher)
    meta = {"teacher": str(teacher_dir), "teacher_config": _file_digest(teacher_dir / "config.json"),
            "corpora": args.corpora, "max_chars": args.max_chars, "sample_percent": args.sample_percent,
            "min_digits_per_kchar": args.min_digits_per_kchar, "max_record_chars": args.max_record_chars}
    if meta_path.exists() and json.loads(meta_path.read_text(encoding="utf-8")) != meta:
        raise ValueError(f"{output} was labelled with other settings ({meta_path}); remove it or set "
                         f"distill.output to a new file")
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    done, _ = completed_lines(output)  # a torn last line (a killed run) is cut, so appending stays valid JSONL
    nlp = nlp or load(teacher_dir, claims=False)
    stats = DistillStats()
    pending: list[tuple[str, str, str]] = []

    def flush(handle) -> None:
        articles = [Article(id=record_id, text=text) for record_id, _, text in pending]
        for (record_id, corpus, _), doc in zip(pending, pipe_articles(nlp, articles)):
            record = teacher_record(record_id, corpus, doc)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            stats.entities += len(record["entities"])
        handle.flush()
        pending.clear()

    with open(output, "a", encoding="utf-8") as handle:
        for record_id, corpus, text in distill_texts(args, stats):
            stats.records += 1
            stats.chars += len(text)
            stats.per_corpus[corpus] = stats.per_corpus.get(corpus, 0) + len(text)
            if record_id in done:
                continue
            pending.append((record_id, corpus, text))
            if len(pending) >= args.batch_size:
                flush(handle)
                if stats.records % (args.batch_size * 50) == 0:
                    log(f"labelled {stats.records} records, {stats.chars:,} chars")
        if pending:
            flush(handle)
    log(f"distillation text: {stats.records} records, {stats.chars:,} chars {stats.per_corpus}; "
        f"left out {stats.excluded_annotated} documents sharing a sentence with the annotations, "
        f"{stats.excluded_sample} outside the sample, {stats.excluded_sparse} with few numbers")
    return stats


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else ""


def load_teacher_records(args: DistillArguments) -> list[dict]:
    from pipeline.paths import resolve_path

    path = resolve_path(args.output)
    if not path.exists():
        raise FileNotFoundError(f"no distillation records at {path}: run `kfact distill --label-only` first")
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
