"""DATE entity text -> calendar fields, resolving 지난해/올해/지난 2월/12일 against the publication date."""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Callable

from pipeline.normalize.numbers import MAX_LEN, nfkc
from pipeline.normalize.types import DateValue

__all__ = ["normalize_date"]

# Offsets from the publication year. 전년 is usually a comparison base ("전년 대비"); the linker
# rebases it on the claim's year, which is why every resolved value is marked relative.
YEAR_WORDS = {
    "재작년": -2, "지지난해": -2, "지난해": -1, "지난 해": -1, "작년": -1, "전년도": -1, "전년": -1,
    "올해": 0, "금년도": 0, "금년": 0, "연초": 0, "연말": 0, "연중": 0,
    "내년도": 1, "내년": 1, "명년": 1, "내후년": 2,
}
# Years relative to another date in the text, not to publication: the linker has to resolve them.
CONTEXT_YEAR_WORDS = ("이듬해", "다음 해", "그해", "그 해", "당해", "같은 해")
MONTH_WORDS = {
    "지난달": -1, "지난 달": -1, "전월": -1, "전달": -1,
    "이달": 0, "이번 달": 0, "금월": 0, "당월": 0,
    "다음 달": 1, "내달": 1, "익월": 1,
}
DAY_WORDS = {"그제": -2, "그저께": -2, "어제": -1, "오늘": 0, "금일": 0, "내일": 1, "모레": 2}
HALVES = {"상반기": 1, "전반기": 1, "하반기": 2, "후반기": 2}

# Words after a date that do not change which date it is: "2020년까지", "지난해 말", "12일께".
_TRAILERS = (
    "까지", "부터", "이후", "이전", "이래", "께", "쯤", "경", "기준", "현재", "당시", "대비", "에",
    "중", "중순", "초순", "하순", "초", "말", "말경", "동기", "같은 기간", "들어",
)
_TRAILER = re.compile(
    r"(?<=[0-9년월일기해도달\s])\s*(?:" + "|".join(
        r"\s*".join(re.escape(c) for c in w.replace(" ", "")) for w in sorted(_TRAILERS, key=len, reverse=True)
    ) + r")$"
)
_NOTE = re.compile(r"\s*\([^()0-9]*\)$")  # "12일(현지시간)", "8일(화)"


def _words(words) -> str:
    return "|".join(r"\s*".join(re.escape(c) for c in w.replace(" ", "")) for w in sorted(words, key=len, reverse=True))


@dataclass
class _Parts:
    year: int | None = None
    year_offset: int | None = None
    context_year: bool = False
    month: int | None = None
    month_mode: str | None = None  # "지난"/"오는" before a month or day number
    month_offset: int | None = None
    half: int | None = None
    quarter: int | None = None
    day: int | None = None
    day_mode: str | None = None
    day_offset: int | None = None
    stage: int = -1  # 0 year, 1 month/half/quarter, 2 day: tokens must come in this order


def _iso(p: _Parts, m: re.Match[str]) -> int:
    p.year, p.month = int(m.group(1)), int(m.group(2))
    if m.group(3):
        p.day = int(m.group(3))
        return 2
    return 1


def _year(p: _Parts, m: re.Match[str]) -> int:
    p.year = int(m.group(1))
    return 0


def _short_year(p: _Parts, m: re.Match[str]) -> int:
    """’23년, ‘22.6.: an apostrophe marks a two-digit year, as press releases write them (’99 is 1999)."""
    short = int(m.group(1))
    p.year = 2000 + short if short <= 50 else 1900 + short
    if m.group(2):
        p.month = int(m.group(2))
        return 1
    return 0


def _year_word(p: _Parts, m: re.Match[str]) -> int:
    p.year_offset = YEAR_WORDS[_key(m.group(), YEAR_WORDS)]
    return 0


def _this_year(p: _Parts, m: re.Match[str]) -> int:  # "올 상반기"
    p.year_offset = 0
    return 0


def _context_year(p: _Parts, m: re.Match[str]) -> int:
    p.context_year = True
    return 0


def _half(p: _Parts, m: re.Match[str]) -> int:
    p.half = HALVES[m.group()]
    return 1


def _quarter(p: _Parts, m: re.Match[str]) -> int:
    p.quarter = int(m.group(1))
    return 1


def _month_word(p: _Parts, m: re.Match[str]) -> int:
    p.month_offset = MONTH_WORDS[_key(m.group(), MONTH_WORDS)]
    return 1


def _month(p: _Parts, m: re.Match[str]) -> int:
    p.month_mode, p.month = m.group(1), int(m.group(2))
    return 1


def _day_word(p: _Parts, m: re.Match[str]) -> int:
    p.day_offset = DAY_WORDS[m.group()]
    return 2


def _day(p: _Parts, m: re.Match[str]) -> int:
    p.day_mode, p.day = m.group(1), int(m.group(2))
    return 2


def _key(matched: str, words) -> str:
    compact = re.sub(r"\s+", "", matched)
    return next(w for w in words if w.replace(" ", "") == compact)


_TOKENS: list[tuple[re.Pattern[str], Callable[[_Parts, re.Match[str]], int]]] = [
    (re.compile(r"([0-9]{4})\s*[-./]\s*([0-9]{1,2})(?:\s*[-./]\s*([0-9]{1,2}))?\.?(?![0-9])"), _iso),
    (re.compile(r"(?:(?:지난|오는)\s*)?([0-9]{4})\s*년(?:도)?"), _year),
    (re.compile(r"[’'‘`]\s*([0-9]{2})(?:\s*년(?:도)?|\s*\.\s*([0-9]{1,2})\s*\.?(?![0-9])|\.?(?![0-9.]))"), _short_year),
    (re.compile(_words(YEAR_WORDS)), _year_word),
    (re.compile(r"올(?=\s)"), _this_year),
    (re.compile(_words(CONTEXT_YEAR_WORDS)), _context_year),
    (re.compile(_words(HALVES)), _half),
    # "1분기", and the older "1·4분기" / "1/4분기" (first quarter, not a fraction).
    (re.compile(r"([1-4])\s*(?:[·ㆍᆞ./]\s*4\s*)?분기"), _quarter),
    (re.compile(_words(MONTH_WORDS)), _month_word),
    (re.compile(r"(?:(지난|오는|이번)\s*)?([0-9]{1,2})\s*월"), _month),
    (re.compile(_words(DAY_WORDS)), _day_word),
    (re.compile(r"(?:(지난|오는|이번)\s*)?([0-9]{1,2})\s*일"), _day),
]


def _tokenize(s: str) -> _Parts | None:
    parts = _Parts()
    pos = 0
    seen = False
    while pos < len(s):
        if s[pos].isspace():
            pos += 1
            continue
        for pattern, handle in _TOKENS:
            match = pattern.match(s, pos)
            if match:
                stage = handle(parts, match)
                if stage <= parts.stage:  # "3월 2024년", "상반기 3월"
                    return None
                parts.stage = stage
                pos = match.end()
                seen = True
                break
        else:
            return None
    return parts if seen else None


def _shift_month(year: int, month: int, offset: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + offset
    return index // 12, index % 12 + 1


def _days_in_month(year: int | None, month: int) -> int:
    if month == 2:
        if year is None:
            return 29
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _resolve(p: _Parts, pub: datetime.date | None) -> tuple[int | None, int | None, int | None, bool] | None:
    """(year, month, day, relative), or None when the parts contradict each other."""
    relative = False
    has_year = p.year is not None or p.year_offset is not None or p.context_year
    year: int | None = p.year
    if p.year_offset is not None:
        relative = True
        year = pub.year + p.year_offset if pub else None
    elif p.context_year:
        relative = True

    if p.day_offset is not None:  # 오늘/어제: a whole date, nothing else may be given
        if has_year or p.month is not None or p.month_offset is not None or p.half or p.quarter:
            return None
        if pub is None:
            return None, None, None, True
        ordinal = pub.toordinal() + p.day_offset
        if not 1 <= ordinal <= datetime.date.max.toordinal():
            return None
        day = datetime.date.fromordinal(ordinal)
        return day.year, day.month, day.day, True

    month = p.month
    if p.month_offset is not None:
        if has_year:
            return None
        relative = True
        if pub:
            year, month = _shift_month(pub.year, pub.month, p.month_offset)
    elif p.month is not None and not has_year:
        relative = True
        if pub:
            if p.month_mode == "지난":  # the most recent such month before publication
                year = pub.year if p.month < pub.month else pub.year - 1
            elif p.month_mode == "오는":
                year = pub.year if p.month > pub.month else pub.year + 1
            else:
                year = pub.year

    if (p.half or p.quarter) and not has_year:
        relative = True
        year = pub.year if pub else None

    if p.day is not None and month is None and p.month_offset is None:
        if has_year or p.half or p.quarter:  # "2024년 12일"
            return None
        relative = True
        if pub:
            year, month = pub.year, pub.month
            if p.day_mode == "지난" and p.day >= pub.day:
                year, month = _shift_month(pub.year, pub.month, -1)
            elif p.day_mode == "오는" and p.day <= pub.day:
                year, month = _shift_month(pub.year, pub.month, 1)

    if month is not None and not 1 <= month <= 12:
        return None
    if p.day is not None and not 1 <= p.day <= (31 if month is None else _days_in_month(year, month)):
        return None
    if year is not None and not 1 <= year <= 9999:
        return None
    return year, month, p.day, relative


# "2011~2020년", "’20~’24년", "4~10월", "2021년부터 2023년(까지)", "2020-2024년": one span, two ends.
_RANGE = re.compile(r"^(?P<start>.+?)\s*(?:~|∼|〜|–|—|부터)\s*(?P<end>.+)$")
_YEAR_DASH = re.compile(r"^(?P<start>[0-9]{4}\s*(?:년도?)?)\s*-\s*(?P<end>[0-9]{4}\s*년도?)$")
_LEADING_NUMBER = re.compile(r"^[’'‘`]?\s*[0-9]+")


def _range(s: str, pub: datetime.date | None) -> tuple[_Parts, tuple, tuple] | None:
    """(start parts, start resolved, end resolved) of a date range; the start borrows the end's unit
    ("4~10월": 4 is a month) and the end the start's year ("2023.1~6월")."""
    match = _YEAR_DASH.match(s) or _RANGE.match(s)
    if not match:
        return None
    start_text, end_text = match.group("start").strip(), match.group("end").strip()
    end = _tokenize(end_text)
    if end is None:
        return None
    start = _tokenize(start_text)
    if start is None and re.fullmatch(r"[0-9]+", start_text):
        start = _tokenize(start_text + _LEADING_NUMBER.sub("", end_text, count=1))
    if start is None:
        return None
    start_resolved = _resolve(start, pub)
    if start_resolved is None:
        return None
    end_has_year = end.year is not None or end.year_offset is not None or end.context_year
    if not end_has_year and start_resolved[0] is not None:
        end.year = start_resolved[0]
    end_resolved = _resolve(end, pub)
    if end_resolved is None:
        return None
    start_key = (start_resolved[0] or 0, start_resolved[1] or 0)
    end_key = (end_resolved[0] or 0, end_resolved[1] or 0)
    if start_resolved[0] is not None and end_resolved[0] is not None and end_key < start_key:
        return None  # "2024~2020년" is not a period
    return start, start_resolved, end_resolved


def normalize_date(text: str, published: datetime.date | None = None) -> DateValue | None:
    """Calendar fields of a DATE span, relative words resolved against `published`; None if not a date.

    "지난해 하반기" (published 2025-04-08) -> DateValue(2024, half=2, relative=True); "2025-04-08" -> 2025-04-08.
    Without `published`, a relative date keeps year None and relative=True.
    """
    if not isinstance(text, str):
        return None
    pub = published if isinstance(published, datetime.date) else None
    s = nfkc(text)
    if not s or len(s) > MAX_LEN:
        return None
    s = _NOTE.sub("", s)
    while True:
        stripped = _TRAILER.sub("", s).strip()
        if stripped == s or not stripped:
            break
        s = stripped
    parts = _tokenize(s)
    if parts is None:
        ranged = _range(s, pub)
        if ranged is None:
            return None
        parts, (year, month, day, relative), (end_year, end_month, _, end_relative) = ranged
        return DateValue(raw=text, year=year, month=month, day=day, half=parts.half, quarter=parts.quarter,
                         relative=relative or end_relative, end_year=end_year, end_month=end_month)
    resolved = _resolve(parts, pub)
    if resolved is None:
        return None
    year, month, day, relative = resolved
    return DateValue(raw=text, year=year, month=month, day=day, half=parts.half, quarter=parts.quarter,
                     relative=relative)
