"""Which year a value describes: periods named in the sentence, report editions, comparison bases."""
from __future__ import annotations

import re

from spacy.tokens import Doc, Span

from pipeline.extensions import doc_text
from pipeline.linking.entity_index import ents_within
from pipeline.linking.taxonomy import ReportEditions
from pipeline.normalize import DateValue

PLAN_WORDS = re.compile(r"(계획|하겠다|할 방침|할 예정|발표했|밝혔)")
# A date followed by these marks a starting point or a past comparison, not the claim's period.
SINCE_AFTER = re.compile(r"^\s*(이후|부터|이래|에 비해|보다|대비|과 비교|와 비교)")
FROM_BEFORE_TO = re.compile(r"^\s*에서\s*(약\s*)?-?\d[\d,.]*(\s*[^\s,.]{1,6}?){0,2}?(으로|로)(?![가-힣])")
PREVIOUS_PERIOD_BEFORE = re.compile(r"(전년|전년도|전년 동기|전년동기|작년 동기|전년 같은 기간)\s*\(?\s*$")


def is_period(doc: Doc, ent: Span) -> bool:
    """A DATE that names the period of a figure: has a year, is not day-only (12일 dates events),
    is not a comparison base (전년) and is not a starting point (2005년 이후)."""
    value = ent._.value
    if ent.label_ != "DATE" or not isinstance(value, DateValue) or value.year is None:
        return False
    if value.day is not None and not re.search(r"\d{4}", ent.text):
        return False
    if "전년" in ent.text or SINCE_AFTER.match(doc_text(doc)[ent.end_char:ent.end_char + 8]):
        return False
    return True


def sentence_year(sentence: Span, editions: ReportEditions) -> int | None:
    """The first period the sentence names, or the data year of a report edition it cites."""
    for ent in ents_within(sentence):
        if is_period(sentence.doc, ent):
            return ent._.value.year
    # "AI 인덱스 보고서 2025에 따르면 ...": the edition names the year after the data.
    return editions.data_year(sentence.text)


def year_and_period(doc: Doc, sentence: Span, value: Span, carried_year: int | None,
                    editions: ReportEditions) -> tuple[int | None, int | None]:
    """(the value's year, the period year the sentence is about) — they differ for comparison bases."""
    dates_before = [e for e in ents_within(sentence) if e.end_char <= value.start_char and is_period(doc, e)]
    base = dates_before[-1]._.value.year if dates_before else sentence_year(sentence, editions)
    base = base if base is not None else carried_year
    # 전년(13억9000만 달러), 전년동기 1790만 유로에서: the comparison base is the year before.
    left = doc_text(doc)[max(sentence.start_char, value.start_char - 12):value.start_char]
    if PREVIOUS_PERIOD_BEFORE.search(left):
        return (base - 1 if base is not None else None), base
    # "9위에서 11위로", "13억 달러에서 15억 달러로": with one period named, the start is the one before.
    if base is not None and FROM_BEFORE_TO.match(doc_text(doc)[value.end_char:value.end_char + 24]):
        return base - 1, base
    # A plan or announcement with no target year takes the year it was announced (GUIDELINE §3).
    if base is None and doc._.published is not None and PLAN_WORDS.search(sentence.text):
        return doc._.published.year, doc._.published.year
    return base, base
