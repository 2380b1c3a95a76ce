"""Annotation files: load, validate, and project character spans onto Kiwi tokens.

The project's annotation format is JSON Lines, one record per text (annotations/GUIDELINE.md).
Validation never drops a bad span silently: it raises AnnotationError naming file, record and span.
"""
from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Iterable, Iterator

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, field_validator

from pipeline.schema import (ENTITY_LABELS, SPLITS, VALUE_LABELS, Article, Claim, Entity, Span,
                             parse_published)



class AnnotationError(ValueError):
    pass


class AnnotatedRecord(BaseModel):
    """One gold record (annotations/GUIDELINE.md §1): a text with its entities and claims."""

    id: str
    text: str
    published: dt.date | None = None
    source: str | None = None
    license: str | None = None
    article: str | None = None  # the article the text comes from; None: the record is its own article
    split: str = "train"
    entities: list[Entity] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    ignore: list[Span] = Field(default_factory=list)  # spans masked out of the NER loss

    @field_validator("published", mode="before")
    @classmethod
    def _date(cls, value: Any) -> dt.date | None:
        return parse_published(value)

    def as_article(self) -> Article:
        """The record as an Article, fields as annotated (no dateline guessing: gold says what it means)."""
        return Article.model_construct(id=self.id, text=self.text, published=self.published)

    def to_json(self) -> str:
        """One line of an annotation file: entities as start/end/label/text, claims without output-only fields."""
        data = self.model_dump(mode="json", exclude={"entities", "claims"})
        data["entities"] = [e.model_dump(include={"start", "end", "label", "text"}) for e in self.entities]
        data["claims"] = [c.model_dump(mode="json", exclude={"evidence", "confidence"}) for c in self.claims]
        return json.dumps(data, ensure_ascii=False)


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
            handle.write(record.to_json() + "\n")
            count += 1
    return count


def iter_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
