"""Korean numerals -> numbers, and the amount grammar (modifiers, ranges, units) the other normalizers share.

Only `parse_korean_number` is public; the helpers below are for money.py and quantity.py.
"""
from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal
from typing import Callable

from pipeline.normalize.types import NumericValue

__all__ = ["parse_korean_number"]

# Entity surface forms are a few words long. Longer text is a mis-span; the cap also bounds the
# Decimal exponents and regex work on arbitrary input.
MAX_LEN = 64

HANGUL_DIGITS = {
    "영": 0, "공": 0, "일": 1, "이": 2, "삼": 3, "사": 4,
    "오": 5, "육": 6, "륙": 6, "칠": 7, "팔": 8, "구": 9,
}
SMALL_UNITS = {"십": 10, "백": 100, "천": 1000}
BIG_UNITS = {"만": 10**4, "억": 10**8, "조": 10**12, "경": 10**16}
UNIT_CHARS = "".join(SMALL_UNITS) + "".join(BIG_UNITS)

# Longest first: "마이너스" before "-". ▲/▼ are how Korean market tables print a change's sign; △ (and ▽) is
# the minus of Korean government tables and releases ("대구 △17.7%", "최대 △1.2%p"); an en dash is a typeset minus.
_SIGNS = (("마이너스", -1), ("플러스", 1), ("-", -1), ("−", -1), ("–", -1), ("+", 1), ("▼", -1), ("▲", 1),
          ("△", -1), ("▽", -1))
SIGN_MARKS = tuple(word for word, _ in _SIGNS if len(word) == 1)

# Commas only as thousands separators: "12,34" is a list or a typo, not 1234.
_ARABIC = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def to_float(value: Decimal | None) -> float | None:
    if value is None:
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def parse_decimal(text: str) -> Decimal | None:
    """Exact value of an NFKC-normalised numeral, or None: "3천512만4천56" -> Decimal(35124056).

    Decimal keeps "1.33" * 10**9 exact; the float is taken once, at the end.
    """
    s = text.strip()
    sign = 1
    for word, value in _SIGNS:
        if s.startswith(word):
            sign, s = value, s[len(word):].lstrip()
            break

    total = Decimal(0)
    group = Decimal(0)  # the part before the next 만/억/조/경
    current: Decimal | None = None  # a number not yet multiplied by a unit
    last_small: int | None = None
    last_big: int | None = None
    group_started = False
    seen = False
    pos = 0
    while pos < len(s):
        ch = s[pos]
        if ch.isspace():
            pos += 1
            continue
        match = _ARABIC.match(s, pos)
        if match:
            if current is not None:  # "3 4", "1,2345": two numbers, not one
                return None
            current = Decimal(match.group().replace(",", ""))
            group_started = seen = True
            pos = match.end()
            continue
        if ch in HANGUL_DIGITS:
            if current is not None:
                return None
            current = Decimal(HANGUL_DIGITS[ch])
            group_started = seen = True
        elif ch in SMALL_UNITS:
            mult = SMALL_UNITS[ch]
            if last_small is not None and mult >= last_small:
                return None
            if current is None:
                current = Decimal(1)  # "천만", "백억": a bare unit counts once
            elif current >= 10:  # "12천" is not Korean; a wrong reading is worse than none
                return None
            group += current * mult
            current, last_small = None, mult
            group_started = seen = True
        elif ch in BIG_UNITS:
            mult = BIG_UNITS[ch]
            if last_big is not None and mult >= last_big:
                return None
            if not group_started:  # "억" alone, "1억만"
                return None
            if current is not None and last_small is not None and current >= last_small:
                return None  # "3천5000만"
            value = group + (current or 0)
            if last_big is not None and value * mult >= last_big:
                return None  # "1억 2만억", "1억 20000만": a group overflowing into the one above
            total += value * mult
            group, current, last_small, last_big = Decimal(0), None, None, mult
            group_started = False
        else:
            return None
        pos += 1

    if not seen:
        return None
    if current is not None and last_small is not None and current >= last_small:
        return None
    tail = group + (current or 0)
    if last_big is not None and tail >= last_big:
        return None
    return sign * (total + tail)


def parse_korean_number(text: str) -> float | None:
    """The number a Korean numeral denotes, or None if the text is not exactly one number.

    "23억 3000만" -> 2330000000.0; "삼십" -> 30.0; "１２３억" -> 12300000000.0; "수백" -> None.
    """
    if not isinstance(text, str):
        return None
    s = nfkc(text)
    if not s or len(s) > MAX_LEN:
        return None
    return to_float(parse_decimal(s))


# --- amount grammar shared by money and quantity -------------------------------------------------

_APPROX_PREFIX = re.compile(r"^(?:대략|최대|최소|최고|최저|거의|약)\s*")
_PLAIN_PREFIX = re.compile(r"^(?:총|무려|모두)\s*")
_APPROX_SUFFIXES = ("가량", "수준", "이상", "이하", "남짓", "정도", "안팎", "내외", "미만", "초과", "넘게", "쯤")
# "1000여 명", "300억여 원": 여 right after a number means "a little over".
_YEO = re.compile(r"(?<=[0-9" + UNIT_CHARS + r"])\s*여")
_RANGE_SEP = re.compile(r"\s*[~∼〜\-–—]\s*")
_LEADING_SCALE = re.compile(
    r"^[" + re.escape("".join(SIGN_MARKS)) + r"]?\s*(?:[0-9][0-9,]*(?:\.[0-9]+)?|[" + "".join(HANGUL_DIGITS) + r"])"
    r"\s*([" + UNIT_CHARS + r"]+)"
)
# ASCII-only case folding: with Unicode folding "mıl" or "dollarſ" would match, then miss the lookup.
CASELESS = re.IGNORECASE | re.ASCII

EN_SCALES = {
    "thousand": 10**3, "k": 10**3,
    "million": 10**6, "mn": 10**6, "mln": 10**6, "mil": 10**6, "m": 10**6,
    "billion": 10**9, "bn": 10**9, "bln": 10**9, "b": 10**9,
    "trillion": 10**12, "tn": 10**12, "t": 10**12,
}
_EN_SCALE = re.compile(
    r"(?<![A-Za-z])\s*(" + "|".join(sorted(EN_SCALES, key=len, reverse=True)) + r")\.?$", CASELESS
)

# take_unit(part) -> (unit or None, the rest), or None when the part names two different units.
UnitTaker = Callable[[str], "tuple[str | None, str] | None"]


def strip_modifiers(text: str, extra_suffixes: tuple[str, ...] = ()) -> tuple[str, bool]:
    """Drop 약/최대/가량/… around an amount; the bool says whether any of them made it approximate."""
    s = text.strip()
    approx = False
    suffixes = _APPROX_SUFFIXES + extra_suffixes
    changed = True
    while changed and s:
        changed = False
        match = _APPROX_PREFIX.match(s)
        if match and match.end() < len(s):
            s, approx, changed = s[match.end():], True, True
            continue
        match = _PLAIN_PREFIX.match(s)
        if match and match.end() < len(s):
            s, changed = s[match.end():], True
            continue
        for word in suffixes:
            if s.endswith(word) and len(s) > len(word):
                s, approx, changed = s[: -len(word)].rstrip(), True, True
                break
    stripped = _YEO.sub("", s)
    return stripped, approx or stripped != s


def split_range(text: str) -> list[str]:
    """"3~4조 원" -> ["3", "4조 원"]; a leading minus is a sign, not a separator."""
    for match in _RANGE_SEP.finditer(text):
        left = text[: match.start()].strip()
        if left in ("", *SIGN_MARKS):
            continue
        return [left, text[match.end():].strip()]
    return [text]


def inherit_scale(left: str, right: str, english_scales: bool) -> str:
    """"3~4조" means 3조~4조: the lower bound borrows the upper bound's scale when it has none."""
    left = left.strip()
    if english_scales and _EN_SCALE.search(right) and not _EN_SCALE.search(left) \
            and not any(c in UNIT_CHARS for c in left):
        return f"{left} {_EN_SCALE.search(right).group(1)}"
    match = _LEADING_SCALE.match(right.strip())
    if not match:
        return left
    scale = match.group(1)
    if not any(c in UNIT_CHARS for c in left):
        return left + scale
    if not any(c in BIG_UNITS for c in left):  # "3천~4천만": only the 만 carries over
        big = next((i for i, c in enumerate(scale) if c in BIG_UNITS), None)
        if big is not None:
            return left + scale[big:]
    return left


def parse_amount(text: str, english_scales: bool = False) -> Decimal | None:
    """A Korean numeral, or with english_scales an Arabic number plus million/billion/bn…"""
    s = text.strip()
    if english_scales:
        match = _EN_SCALE.search(s)
        if match:
            head = s[: match.start()]
            if not head.strip() or any(c in UNIT_CHARS for c in head):
                return None
            base = parse_decimal(head)
            return None if base is None else base * EN_SCALES[match.group(1).lower()]
    return parse_decimal(s)


def parse_measure(
    text: str,
    take_unit: UnitTaker,
    *,
    default_unit: str | None,
    require_unit: bool = False,
    english_scales: bool = False,
    extra_suffixes: tuple[str, ...] = (),
    parse_number: Callable[[str], Decimal | None] | None = None,
) -> NumericValue | None:
    """An amount with an optional range, modifiers and a unit found by take_unit; None if any part fails."""
    if not isinstance(text, str):
        return None
    s = nfkc(text)
    if not s or len(s) > MAX_LEN:
        return None
    core, approx = strip_modifiers(s, extra_suffixes)
    parts = split_range(core)
    units: list[str | None] = []
    numbers: list[str] = []
    for part in parts:
        taken = take_unit(part)
        if taken is None:
            return None
        unit, rest = taken
        # Modifiers can sit inside the unit: "한화 약 3조 원", "3억여 달러".
        rest, part_approx = strip_modifiers(rest, extra_suffixes)
        approx = approx or part_approx
        units.append(unit)
        numbers.append(rest)
    found = {u for u in units if u is not None}
    if len(found) > 1:
        return None
    unit = found.pop() if found else default_unit
    if unit is None and require_unit:
        return None
    if len(numbers) == 2:
        numbers[0] = inherit_scale(numbers[0], numbers[1], english_scales)

    def number(chunk: str) -> Decimal | None:
        value = parse_amount(chunk, english_scales)
        if value is None and parse_number is not None:
            value = parse_number(chunk)
        return value

    values = [to_float(number(chunk)) for chunk in numbers]
    if any(v is None for v in values):
        return None
    low = values[0]
    high = values[1] if len(values) == 2 else None
    if high is not None and high < low:
        return None
    return NumericValue(raw=text, value=low, unit=unit, value_max=high, approximate=approx)


def suffix_pattern(words: dict[str, str]) -> re.Pattern[str]:
    """One regex matching any lexicon word at the end of a string, longest first.

    Spaces inside a word are optional ("미국 달러" = "미국달러"); ASCII words must not continue a
    Latin word ("billion won" yes, "bwon" no).
    """
    alternatives = []
    for word in sorted(words, key=len, reverse=True):
        body = r"\s*".join(re.escape(c) for c in word.replace(" ", ""))
        if word[0].isascii() and word[0].isalpha():
            body = r"(?<![A-Za-z])" + body
        alternatives.append(body)
    return re.compile(r"\s*(" + "|".join(alternatives) + r")$", CASELESS)


def lexicon_key(word: str) -> str:
    return re.sub(r"\s+", "", word).lower()
