"""Annotation files: load, validate, and project character spans onto Kiwi tokens.

The project's annotation format is JSON Lines, one record per text (annotations/GUIDELINE.md).
Validation never drops a bad span silently: it raises AnnotationError naming file, record and span.
"""
from __future__ import annotations

import glob
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from pydantic import BaseModel, Field

ENTITY_LABELS = ("ORG", "MODEL", "COUNTRY", "LOCATION", "PERSON", "DATE", "MONEY", "PERCENT", "QUANTITY")
VALUE_LABELS = ("MONEY", "PERCENT", "QUANTITY")
SPLITS = ("train", "dev", "test", "blind")
# Splits a model may be trained or tuned on; "blind" is scored only (annotations/GUIDELINE.md §1).
TUNING_SPLITS = ("train", "dev", "test")


class AnnotationError(ValueError):
    pass


class EntityAnn(BaseModel):
    start: int
    end: int
    label: str
    text: str | None = None


class SubjectAnn(BaseModel):
    text: str
    type: str
    id: str


class IndicatorAnn(BaseModel):
    id: str
    text: str = ""


class OffsetAnn(BaseModel):
    start: int
    end: int


class ClaimAnn(BaseModel):
    subject: SubjectAnn
    indicator: IndicatorAnn
    year: int | None = None
    value: float | None = None
    unit: str | None = None
    value_span: OffsetAnn
    approximate: bool = False
    value_max: float | None = None
    period: str | None = None  # "2024-03", "2024-Q1", "2024-H2" when finer than the year (GUIDELINE §3)


class AnnotatedRecord(BaseModel):
    id: str
    text: str
    published: str | None = None
    source: str | None = None
    license: str | None = None
    article: str | None = None  # the article the text comes from; None: the record is its own article
    split: str = "train"
    entities: list[EntityAnn] = Field(default_factory=list)
    claims: list[ClaimAnn] = Field(default_factory=list)
    ignore: list[OffsetAnn] = Field(default_factory=list)  # spans masked out of the NER loss


def article_of(record: AnnotatedRecord) -> str:
    return record.article or record.id


def article_split(article_id: str, dev_percent: int = 20, test_percent: int = 20) -> str:
    """The split of a new article: a stable hash of its id, 60/20/20 train/dev/test (GUIDELINE §6)."""
    import hashlib

    bucket = int(hashlib.sha1(article_id.encode("utf-8")).hexdigest(), 16) % 100
    if bucket < 100 - dev_percent - test_percent:
        return "train"
    return "dev" if bucket < 100 - test_percent else "test"


def validate_record(record: AnnotatedRecord, where: str, indicator_ids: set[str] | None = None) -> None:
    """Raise AnnotationError on out-of-range, mismatched, overlapping or unknown-label spans."""
    n = len(record.text)
    name = f"{where}: record {record.id!r}"
    if record.split not in SPLITS:
        raise AnnotationError(f"{name}: unknown split {record.split!r}")
    previous_end = -1
    for ent in sorted(record.entities, key=lambda e: (e.start, e.end)):
        if ent.label not in ENTITY_LABELS:
            raise AnnotationError(f"{name}: unknown label {ent.label!r} at {ent.start}-{ent.end}")
        if not (0 <= ent.start < ent.end <= n):
            raise AnnotationError(f"{name}: span {ent.start}-{ent.end} out of range for text of {n} chars")
        if ent.text is not None and record.text[ent.start:ent.end] != ent.text:
            raise AnnotationError(
                f"{name}: span {ent.start}-{ent.end} is {record.text[ent.start:ent.end]!r}, annotated as {ent.text!r}"
            )
        if ent.start < previous_end:
            raise AnnotationError(f"{name}: span {ent.start}-{ent.end} ({ent.label}) overlaps the previous span")
        previous_end = ent.end
    value_spans = {(e.start, e.end) for e in record.entities if e.label in VALUE_LABELS}
    for claim in record.claims:
        span = (claim.value_span.start, claim.value_span.end)
        if span not in value_spans:
            raise AnnotationError(f"{name}: claim value_span {span} is not a MONEY/PERCENT/QUANTITY entity")
        if indicator_ids is not None and claim.indicator.id not in indicator_ids:
            raise AnnotationError(f"{name}: unknown indicator {claim.indicator.id!r}")


def expand_paths(patterns: Iterable[str | Path]) -> list[Path]:
    """Files and globs -> sorted unique paths; a pattern matching nothing is an error."""
    paths: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(str(pattern))) if any(c in str(pattern) for c in "*?[") else [str(pattern)]
        if not matches:
            raise AnnotationError(f"no annotation files match {pattern}")
        paths.extend(Path(m) for m in matches)
    return sorted(dict.fromkeys(paths))


def load_annotations(
    patterns: Iterable[str | Path], indicator_ids: set[str] | None = None
) -> list[AnnotatedRecord]:
    """Load and validate every record of the given files (or globs)."""
    records: list[AnnotatedRecord] = []
    seen: dict[str, str] = {}
    article_splits: dict[str, tuple[str, str]] = {}  # article -> (split, where first seen)
    for path in expand_paths(patterns):
        try:
            handle = open(path, "rb")
        except OSError as error:  # a missing file or a directory: refuse by name, no traceback
            raise AnnotationError(f"cannot read annotation file {path}: {error.strerror or error}") from error
        with handle:
            for line_no, raw in enumerate(handle, 1):
                where = f"{path}:{line_no}"
                try:
                    line = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
                except UnicodeDecodeError as error:
                    raise AnnotationError(f"{where}: not UTF-8 ({error.reason} at byte {error.start})") from error
                if not line.strip():
                    continue
                try:
                    record = AnnotatedRecord.model_validate_json(line)
                except ValueError as error:
                    raise AnnotationError(f"{where}: not a valid annotation record: {error}") from error
                validate_record(record, where, indicator_ids)
                if record.id in seen:
                    raise AnnotationError(f"{where}: duplicate record id {record.id!r} (first in {seen[record.id]})")
                seen[record.id] = where
                article = article_of(record)
                first = article_splits.setdefault(article, (record.split, where))
                if first[0] != record.split:
                    raise AnnotationError(f"{where}: record {record.id!r} of article {article!r} is in split "
                                          f"{record.split!r}, but {first[1]} put the article in {first[0]!r}: "
                                          f"splits are by article")
                records.append(record)
    return records


def write_annotations(records: Iterable[AnnotatedRecord], path: Path) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record.model_dump_json(exclude_defaults=False) + "\n")
            count += 1
    return count


@dataclass
class AlignmentStats:
    spans: int = 0
    misaligned: int = 0  # span edges inside a Kiwi token: expanded to token bounds
    lost: int = 0  # spans that cover only whitespace tokens
    by_label: Counter = field(default_factory=Counter)


def doc_words(doc) -> list[int]:
    """Indices of the tokens the entity model sees: everything but whitespace tokens."""
    return [token.i for token in doc if not token.is_space]


def bio_tags(doc, entities: list, ignore: list = (), stats: AlignmentStats | None = None) -> list[str]:
    """BIO tag per non-space token; tokens of `ignore` spans get '-' (masked from the loss).

    Edges that fall inside a token expand to the token's bounds and are counted, never dropped.
    """
    stats = stats if stats is not None else AlignmentStats()
    tags = {token.i: "O" for token in doc if not token.is_space}
    for span_def, is_ignore in [(e, False) for e in entities] + [(s, True) for s in ignore]:
        start, end = _get(span_def, "start"), _get(span_def, "end")
        span = doc.char_span(start, end, alignment_mode="strict")
        if span is None:
            span = doc.char_span(start, end, alignment_mode="expand")
            if not is_ignore:
                stats.misaligned += 1
        if not is_ignore:
            stats.spans += 1
        indices = [t.i for t in span if not t.is_space] if span is not None else []
        if not indices:
            if not is_ignore:
                stats.lost += 1
            continue
        if is_ignore:
            for i in indices:
                if tags[i] == "O":
                    tags[i] = "-"
            continue
        label = _get(span_def, "label")
        stats.by_label[label] += 1
        for position, i in enumerate(indices):
            tags[i] = ("B-" if position == 0 else "I-") + label
    return [tags[i] for i in doc_words(doc)]


def _get(obj, name):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def iter_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
