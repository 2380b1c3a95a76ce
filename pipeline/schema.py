"""The data model at the pipeline's boundaries: Article in, OutputRecord out.

Every reader produces Articles; every writer (JSONL, Parquet, annotation formats) consumes
OutputRecords. Inside, the spaCy Doc carries the same information on tokens and spans.
"""
from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The label sets of the data model (annotations/GUIDELINE.md), defined once.
ENTITY_LABELS = ("ORG", "MODEL", "COUNTRY", "LOCATION", "PERSON", "DATE", "MONEY", "PERCENT", "QUANTITY")
VALUE_LABELS = ("MONEY", "PERCENT", "QUANTITY")  # the entities a claim's value comes from
SUBJECT_LABELS = ("COUNTRY", "ORG", "MODEL", "LOCATION", "PERSON")  # what a claim may be about
SPLITS = ("train", "dev", "test", "blind")
# Splits a model may be trained or tuned on; "blind" is scored only (annotations/GUIDELINE.md §1).
TUNING_SPLITS = ("train", "dev", "test")


class Article(BaseModel):
    """One input document. `published` resolves relative dates (지난해, 올해)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    text: str
    published: dt.date | None = None
    title: str | None = None
    url: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError("id must be a string or an integer")
        return str(value)

    @field_validator("text", mode="before")
    @classmethod
    def _text_is_str(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"text must be a string, got {type(value).__name__}")
        # JSON allows "\ud800" escapes; such a text is not Unicode and cannot be written back as UTF-8.
        bad = _LONE_SURROGATE.search(value)
        if bad:
            raise ValueError(f"text is not valid Unicode: lone surrogate U+{ord(bad.group()):04X} "
                             f"at char {bad.start()}")
        return value

    @field_validator("id", "title", "url", mode="after")
    @classmethod
    def _writable(cls, value: str | None) -> str | None:
        return escape_surrogates(value)

    @field_validator("published", mode="before")
    @classmethod
    def _lenient_date(cls, value: Any) -> dt.date | None:
        # Crawls carry dates in many shapes; an unreadable one is dropped, not fatal.
        return parse_published(value)

    @model_validator(mode="after")
    def _dateline_as_fallback(self) -> "Article":
        # Plain-text crawls keep the article's dateline ("입력 2025-04-08 16:55") but no metadata field.
        if self.published is None:
            self.published = dateline_date(self.text)
        return self


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(value: str | None) -> str | None:
    """Lone surrogates (from JSON escapes or undecodable file names) as visible \\udcff escapes, so the
    string can be written as UTF-8; labels (ids, titles, paths) stay recognisable instead of failing the run."""
    if value is None or not _LONE_SURROGATE.search(value):
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


DATE_PATTERN = r"(\d{4})[-./년\s]\s*(\d{1,2})[-./월\s]\s*(\d{1,2})"
DATELINE = re.compile(r"(?:기사\s*)?(?:입력|등록|발행|게재|승인|송고)\s*(?:일시?)?\s*[:：]?\s*" + DATE_PATTERN)
DATELINE_WINDOW = 600  # a dateline stands near the top; dates further down are events, not publication


def dateline_date(text: str) -> dt.date | None:
    """'입력 2025-04-08 16:55', '등록 2025.04.08' near the start of an article -> its publication date."""
    match = DATELINE.search(text[:DATELINE_WINDOW])
    return parse_published(match.group(0)) if match else None


def parse_published(value: Any) -> dt.date | None:
    """'2025-04-08', '2025.04.08 16:55', '2025-04-08T16:55:00+09:00' -> date(2025, 4, 8); junk -> None."""
    if value is None or isinstance(value, dt.date):
        return value if not isinstance(value, dt.datetime) else value.date()
    if not isinstance(value, str):
        return None
    match = re.search(DATE_PATTERN, value)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


class Entity(BaseModel):
    """A labelled character span (`text[start:end] == text`), with its normalized value where it has one.
    Annotation files carry only start, end, label and text."""

    start: int
    end: int
    label: str
    text: str | None = None
    value: float | None = None
    unit: str | None = None
    value_max: float | None = None
    approximate: bool = False
    year: int | None = None
    month: int | None = None
    day: int | None = None
    half: int | None = None
    quarter: int | None = None
    end_year: int | None = None  # a date range's end ("2011~2020년" -> year 2011, end_year 2020)
    end_month: int | None = None


class Subject(BaseModel):
    text: str
    type: str  # COUNTRY | ORG | MODEL | PERSON
    id: str


class Indicator(BaseModel):
    id: str
    text: str = ""  # the phrase in the text that names what is measured


class Span(BaseModel):
    start: int
    end: int
    text: str | None = None


class Claim(BaseModel):
    """One number stated as a fact about a subject: the linker's output and the gold annotations' unit."""

    subject: Subject
    indicator: Indicator
    year: int | None = None
    value: float | None = None
    unit: str | None = None
    value_span: Span
    evidence: Span | None = None
    approximate: bool = False
    value_max: float | None = None
    confidence: float = 1.0
    period: str | None = None  # "2024-03", "2024-Q1", "2024-H2" when the value describes part of the year

    def key(self) -> tuple:
        """What two claims must share to count as the same fact (value compared separately)."""
        return (self.subject.id, self.indicator.id, self.year, self.unit)


@dataclass(frozen=True)
class NoiseRange:
    """A character range judged crawl noise (repeat, ticker, related list, ...): no entities or claims from it.

    A plain dataclass (pydantic validates it inside OutputRecord): the cleaning code makes many of them."""

    start: int
    end: int
    reason: str


def covers(ranges: Sequence[NoiseRange], position: int) -> bool:
    """Is `position` inside one of the sorted, non-overlapping ranges?"""
    i = bisect_right([r.start for r in ranges], position) - 1
    return i >= 0 and position < ranges[i].end


def overlaps(ranges: Sequence[NoiseRange], start: int, end: int) -> bool:
    """Does [start, end) overlap one of the sorted, non-overlapping ranges?"""
    i = bisect_right([r.start for r in ranges], end - 1) - 1
    return i >= 0 and start < ranges[i].end and ranges[i].start < end


class OutputRecord(BaseModel):
    id: str
    published: dt.date | None = None
    title: str | None = None
    url: str | None = None
    entities: list[Entity] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    noise: list[NoiseRange] = Field(default_factory=list)
    # SHA-1 of the whitespace-collapsed text: cross-article duplicates are rejected, also across --resume.
    text_hash: str | None = None
    # MinHash signature (only with --near-duplicates), kept so that --resume still finds near-duplicates.
    minhash: list[int] | None = None


class Reject(BaseModel):
    id: str | None
    source: str
    reason: str

    @field_validator("id", "source", "reason", mode="after")
    @classmethod
    def _writable(cls, value: str | None) -> str | None:
        return escape_surrogates(value)
