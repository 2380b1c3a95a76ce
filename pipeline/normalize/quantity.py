"""PERCENT and QUANTITY entity text -> number and unit."""
from __future__ import annotations

import re
from decimal import Decimal

from pipeline.normalize.numbers import lexicon_key, nfkc, parse_measure, suffix_pattern
from pipeline.normalize.types import NumericValue

__all__ = ["normalize_percent", "normalize_quantity"]

PERCENT_UNITS = {
    "%": "percent", "퍼센트": "percent", "프로": "percent", "pct": "percent", "percent": "percent",
    "%포인트": "pp", "% 포인트": "pp", "퍼센트포인트": "pp", "%p": "pp", "%pt": "pp", "pp": "pp",
    "percentage points": "pp", "percentage point": "pp",
}

COUNTERS = (
    "개", "명", "장", "건", "대", "곳", "개국", "개사", "개소", "회", "차례", "번", "가구", "채",
    "종", "편", "권", "마리", "인", "표", "석", "가지",
)
QUANTITY_UNITS = {
    **{c: "count" for c in COUNTERS},
    "위": "rank", "등": "rank", "번째": "rank",
    "배": "times", "점": "score", "포인트": "pt",
    # Durations are QUANTITY in the annotation guideline ("3년간"). 주 alone is left out: in business
    # news "100만주" is shares far more often than weeks.
    "년": "year", "년간": "year", "개월": "month", "개월간": "month", "달": "month",
    "주간": "week", "주일": "week", "일": "day", "일간": "day", "시간": "hour", "분": "minute", "초": "second",
    "기가와트": "GW", "메가와트": "MW", "킬로와트": "kW", "테라와트": "TW", "와트": "W",
    "기가와트시": "GWh", "테라와트시": "TWh", "메가와트시": "MWh", "킬로와트시": "kWh",
    "톤": "t", "킬로그램": "kg", "그램": "g",
    "킬로미터": "km", "미터": "m", "센티미터": "cm", "밀리미터": "mm", "나노미터": "nm", "나노": "nm",
    "인치": "in", "제곱킬로미터": "km2", "제곱미터": "m2", "헥타르": "ha", "평": "pyeong",
    "리터": "L", "배럴": "bbl",
    "메가바이트": "MB", "기가바이트": "GB", "테라바이트": "TB", "페타바이트": "PB", "엑사바이트": "EB",
    "테라플롭스": "TFLOPS", "페타플롭스": "PFLOPS", "엑사플롭스": "EFLOPS", "큐비트": "qubit",
    # Single Latin letters (m, t, g) are left out: "10m" is as often 10 million as 10 metres.
    "GW": "GW", "MW": "MW", "kW": "kW", "TW": "TW", "GWh": "GWh", "TWh": "TWh", "MWh": "MWh", "kWh": "kWh",
    "km": "km", "kg": "kg", "cm": "cm", "mm": "mm", "nm": "nm", "km2": "km2", "m2": "m2", "ha": "ha",
    "bbl": "bbl", "MB": "MB", "GB": "GB", "TB": "TB", "PB": "PB", "EB": "EB",
    "TFLOPS": "TFLOPS", "PFLOPS": "PFLOPS", "EFLOPS": "EFLOPS",
}

_PERCENT_SUFFIX = suffix_pattern(PERCENT_UNITS)
_PERCENT_LOOKUP = {lexicon_key(k): v for k, v in PERCENT_UNITS.items()}
_QUANTITY_SUFFIX = suffix_pattern(QUANTITY_UNITS)
_QUANTITY_LOOKUP = {lexicon_key(k): v for k, v in QUANTITY_UNITS.items()}

# Counters take native numerals: "두 차례", "세 곳", "열두 명", "석 달".
_NATIVE_TENS = {"열": 10, "스물": 20, "스무": 20, "서른": 30, "마흔": 40, "쉰": 50,
                "예순": 60, "일흔": 70, "여든": 80, "아흔": 90}
_NATIVE_ONES = {"하나": 1, "한": 1, "둘": 2, "두": 2, "셋": 3, "세": 3, "석": 3, "넷": 4, "네": 4, "넉": 4,
                "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9}
_NATIVE = re.compile(
    r"^(" + "|".join(sorted(_NATIVE_TENS, key=len, reverse=True)) + r")?\s*"
    r"(" + "|".join(sorted(_NATIVE_ONES, key=len, reverse=True)) + r")?$"
)


def _native_number(text: str) -> Decimal | None:
    match = _NATIVE.match(text.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    return Decimal(_NATIVE_TENS.get(match.group(1) or "", 0) + _NATIVE_ONES.get(match.group(2) or "", 0))


def _taker(pattern: re.Pattern[str], lookup: dict[str, str]):
    def take(part: str) -> tuple[str | None, str]:
        s = part.strip()
        match = pattern.search(s)
        if match and match.start() > 0:
            return lookup[lexicon_key(match.group(1))], s[: match.start()]
        return None, s
    return take


_take_percent = _taker(_PERCENT_SUFFIX, _PERCENT_LOOKUP)
_take_quantity = _taker(_QUANTITY_SUFFIX, _QUANTITY_LOOKUP)


def normalize_percent(text: str) -> NumericValue | None:
    """A percentage (unit "percent") or a change in percentage points (unit "pp"); None without a % sign or word.

    "63%" -> NumericValue(63, "percent"); "3.5%포인트" -> NumericValue(3.5, "pp"); "20~40%" -> 20..40.
    """
    # "20%대" is "in the twenties of percent": approximate, same value.
    return parse_measure(text, _take_percent, default_unit=None, require_unit=True, extra_suffixes=("대",))


# A competition rate or ratio to one: "경쟁률 4:1", "6.5대1", "3.75 대 1" -> 4, 6.5, 3.75 times.
_RATIO_TO_ONE = re.compile(r"^\s*(?P<n>[0-9][0-9,]*(?:\.[0-9]+)?)\s*(?::|대)\s*1\s*$")


def normalize_quantity(text: str) -> NumericValue | None:
    """A count, rank, multiple or physical amount with its unit code; a bare number gets unit "number".

    "1만8천장" -> NumericValue(18000, "count"); "11위" -> NumericValue(11, "rank"); "-0.36" -> (-0.36, "number");
    "4:1" -> NumericValue(4, "times").
    """
    ratio = _RATIO_TO_ONE.match(nfkc(text)) if isinstance(text, str) and len(text) <= 40 else None
    if ratio:
        return NumericValue(raw=text, value=float(ratio["n"].replace(",", "")), unit="times")
    return parse_measure(text, _take_quantity, default_unit="number", parse_number=_native_number)
