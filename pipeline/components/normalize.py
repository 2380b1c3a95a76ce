"""spaCy component: attach normalized values to entities (`span._.value`).

Pure: reads `doc._.published` for relative dates, calls the normalizers, writes on spans.
"""
from __future__ import annotations

import dataclasses
import re

from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.extensions import doc_text
from pipeline.normalize import normalize
from pipeline.normalize.dates import MONTH_WORDS
from pipeline.normalize.types import DateValue, NumericValue

# "한 명의 수상자도 배출하지 못했다", "하나도 없다": "not even one" states a count of zero.
NOT_EVEN_ONE_AFTER = re.compile(r"^(\s*의\s*[^\s.,]{1,12})?\s*도\s+([^\s.,]+\s+){0,3}?[^\s.,]*(없|못|않|전무)")


def zero_if_not_even_one(doc: Doc, ent: Span, value):
    """A count of one followed by 도 and a negation is a zero count (GUIDELINE: negative statements)."""
    if not isinstance(value, NumericValue) or value.value != 1 or value.unit not in ("count", "number") \
            or value.value_max:
        return value
    start = ent.end_char - 1 if ent.text.endswith("도") else ent.end_char  # "하나도": the 도 is in the entity
    if NOT_EVEN_ONE_AFTER.match(doc_text(doc)[start:ent.end_char + 40]):
        return dataclasses.replace(value, value=0.0, unit="count")
    return value


# A date that names a year, in any way: 2021년, ’21년, 지난해, 올, 그해.
STATES_A_YEAR = re.compile(r"\d{4}|[’'‘`]\s*\d{2}|년|해|올|작|금|내|\d{2}\.")


def anchor_yearless_periods(doc: Doc) -> None:
    """"‘21년 4분기 전국 지가는 … 3분기(1.07%) 대비": a month, quarter or half with no year of its own is the
    year of the last date before it in the sentence that states one, not the publication's (GUIDELINE §3)."""
    for sentence in doc.sents:
        anchor: int | None = None
        for ent in sentence.ents:
            value = ent._.value
            if ent.label_ != "DATE" or not isinstance(value, DateValue) or value.year is None:
                continue
            yearless = (not STATES_A_YEAR.search(ent.text) and not any(w in ent.text for w in MONTH_WORDS)
                        and value.day is None and (value.month or value.quarter or value.half))
            if not yearless:
                anchor = value.end_year or value.year
            elif anchor is not None and anchor != value.year:
                shift = anchor - value.year
                ent._.value = dataclasses.replace(
                    value, year=anchor, end_year=value.end_year + shift if value.end_year is not None else None)


class ValueNormalizer:
    def __init__(self, name: str, zero_for_not_even_one: bool = True, anchor_yearless_periods: bool = True):
        self.name = name
        self.zero_for_not_even_one = zero_for_not_even_one
        self.anchor_yearless_periods = anchor_yearless_periods

    def __call__(self, doc: Doc) -> Doc:
        for ent in doc.ents:
            value = normalize(ent.label_, ent.text, doc._.published)
            if self.zero_for_not_even_one and ent.label_ == "QUANTITY":
                value = zero_if_not_even_one(doc, ent, value)
            ent._.value = value
        if self.anchor_yearless_periods and doc.has_annotation("SENT_START"):
            anchor_yearless_periods(doc)
        return doc


@Language.factory("kfact_normalize", requires=["doc.ents"], assigns=["span._.value"],
                  default_config={"zero_for_not_even_one": True, "anchor_yearless_periods": True})
def make_value_normalizer(nlp: Language, name: str, zero_for_not_even_one: bool,
                          anchor_yearless_periods: bool) -> ValueNormalizer:
    return ValueNormalizer(name, zero_for_not_even_one, anchor_yearless_periods)
