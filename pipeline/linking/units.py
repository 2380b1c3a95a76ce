"""The unit of a claim and whether it fits an indicator: percent vs percent change, signs of decreases."""
from __future__ import annotations

import re

from spacy.tokens import Doc, Span

from pipeline.extensions import doc_text
from pipeline.linking.taxonomy import IndicatorDef
from pipeline.normalize.money import CURRENCIES

CHANGE_WORDS = re.compile(r"^[^.。]{0,12}?(증가|감소|늘|줄|상승|하락|성장|급증|급감|올랐|올라|떨어|확대|축소|뛰)")
DECREASE_WORDS = re.compile(r"(감소|줄|하락|급감|떨어|축소|낮아|내려|둔화|마이너스)")
COMPARISON_BEFORE = re.compile(r"(대비|보다|比)\s*$")
# "증가율은 63.4%", "지가변동률은 0.335%로": the percent is a rate of change by what it is called
RATE_OF_CHANGE_BEFORE = re.compile(r"(증가율|성장률|상승률|하락률|감소율|변동률|증감률|등락률|신장률|상승폭|증가폭|감소폭)"
                                   r"\s*(?:은|는|이|가|도|을|를)?\s*(?:약|연평균|평균|각각)?\s*$")
# "3분기(1.07%) 대비", "전월(0.344%)": a comparison base in brackets, the same kind of number as the one compared
BASE_IN_BRACKETS = re.compile(r"^\s*\)\s*(?:대비|보다|에 비해|과 비교|와 비교|에서)?")


def unit_compatible(expected: str, unit: str | None) -> bool:
    """Does a value of `unit` fit an indicator that expects `expected` (configs/indicators.toml `unit`)?"""
    if unit is None:
        return False
    if expected == "any" or unit in ("rank", "pct_change"):  # ranks and changes apply to any indicator
        return True
    if expected == "currency":
        return unit in CURRENCIES
    if expected == "percent":
        return unit in ("percent", "pct_change", "pp")
    if expected == "count":
        return unit in ("count", "rank", "number")
    if expected == "index":
        return unit in ("index", "number", "rank")
    if expected == "score":
        return unit in ("score", "number", "rank")
    if expected == "per_100k":
        return unit in ("per_100k", "number")
    return unit == expected or unit == "rank"


def value_unit(doc: Doc, value: Span, indicator: IndicatorDef | None) -> str | None:
    """The claim's unit: the normalizer's, except a percent stated as a change (63% 증가, 전년 대비 63%) is
    `pct_change`, and a bare number takes an index/score/per-100k indicator's unit."""
    unit = value._.value.unit
    if value.label_ == "PERCENT":
        text = doc_text(doc)
        after = text[value.end_char:value.end_char + 14]
        before = text[max(0, value.start_char - 8):value.start_char]
        if unit == "percent" and (CHANGE_WORDS.match(after) or COMPARISON_BEFORE.search(before)
                                  or RATE_OF_CHANGE_BEFORE.search(text[max(0, value.start_char - 16):value.start_char])):
            return "pct_change"
        if unit == "percent" and before.rstrip().endswith("(") and BASE_IN_BRACKETS.match(after):
            compared = [e for e in value.sent.ents if e.label_ == "PERCENT" and e.end <= value.start
                        and getattr(e._.value, "unit", None) is not None  # a PERCENT the normalizer could not read
                        and not text[max(0, e.start_char - 2):e.start_char].rstrip().endswith("(")]
            if compared and value_unit(doc, compared[-1], None) == "pct_change":
                return "pct_change"
        return unit
    if unit == "number" and indicator is not None and indicator.unit in ("index", "score", "per_100k"):
        return indicator.unit
    return unit


def signed_number(doc: Doc, value: Span, unit: str | None, number: float) -> float:
    """A percent change followed by a decrease word (감소, 줄었다) is negative."""
    if unit == "pct_change" and DECREASE_WORDS.search(doc_text(doc)[value.end_char:value.end_char + 20]):
        return -abs(number)
    return number
