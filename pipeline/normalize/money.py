"""MONEY entity text -> amount and ISO 4217 currency."""
from __future__ import annotations

import re

from pipeline.normalize.numbers import CASELESS, lexicon_key, parse_measure, suffix_pattern
from pipeline.normalize.types import NumericValue

__all__ = ["CURRENCIES", "normalize_money"]

# Words and codes written after the amount. Compound dollars come first in the regex (longest
# first), so "홍콩달러" is never read as USD.
SUFFIX_CURRENCIES = {
    "달러": "USD", "달러화": "USD", "미국 달러": "USD", "미 달러": "USD", "불": "USD",
    "원": "KRW", "원화": "KRW",
    "유로": "EUR", "유로화": "EUR",
    "위안": "CNY", "위안화": "CNY", "元": "CNY",
    "엔": "JPY", "엔화": "JPY",
    "파운드": "GBP", "파운드화": "GBP",
    "홍콩 달러": "HKD", "대만 달러": "TWD", "호주 달러": "AUD", "캐나다 달러": "CAD",
    "싱가포르 달러": "SGD", "스위스 프랑": "CHF", "루블": "RUB", "루피": "INR",
    "dollar": "USD", "dollars": "USD", "won": "KRW", "euro": "EUR", "euros": "EUR",
    "yuan": "CNY", "renminbi": "CNY", "yen": "JPY", "pound": "GBP", "pounds": "GBP",
    "USD": "USD", "KRW": "KRW", "EUR": "EUR", "CNY": "CNY", "RMB": "CNY", "JPY": "JPY",
    "GBP": "GBP", "HKD": "HKD", "TWD": "TWD", "AUD": "AUD", "CAD": "CAD", "SGD": "SGD",
    "CHF": "CHF", "RUB": "RUB", "INR": "INR",
    "$": "USD", "₩": "KRW", "€": "EUR", "£": "GBP", "¥": "JPY",
}
# Symbols and codes written before the amount; 미화/한화 ("in US dollars"/"in won") too.
# ¥ alone is read as yen, the usual sense in Korean news; CN¥ is the yuan.
PREFIX_CURRENCIES = {
    "US$": "USD", "HK$": "HKD", "NT$": "TWD", "A$": "AUD", "C$": "CAD", "S$": "SGD",
    "CN¥": "CNY", "$": "USD", "₩": "KRW", "€": "EUR", "£": "GBP", "¥": "JPY",
    "USD": "USD", "KRW": "KRW", "EUR": "EUR", "CNY": "CNY", "RMB": "CNY", "JPY": "JPY",
    "GBP": "GBP", "HKD": "HKD", "TWD": "TWD", "AUD": "AUD", "CAD": "CAD", "SGD": "SGD",
    "CHF": "CHF", "RUB": "RUB", "INR": "INR",
    "미화": "USD", "한화": "KRW",
}

# Every ISO 4217 code the normalizer can emit: the unit of a MONEY value is one of these.
CURRENCIES = frozenset(SUFFIX_CURRENCIES.values()) | frozenset(PREFIX_CURRENCIES.values())

_SUFFIX = suffix_pattern(SUFFIX_CURRENCIES)
_SUFFIX_LOOKUP = {lexicon_key(k): v for k, v in SUFFIX_CURRENCIES.items()}
_PREFIX = re.compile(
    r"^(" + "|".join(re.escape(k) for k in sorted(PREFIX_CURRENCIES, key=len, reverse=True)) + r")(?![A-Za-z])\s*",
    CASELESS,
)
_PREFIX_LOOKUP = {k.lower(): v for k, v in PREFIX_CURRENCIES.items()}


def _take_currency(part: str) -> tuple[str | None, str] | None:
    s = part.strip()
    currency = None
    match = _PREFIX.match(s)
    if match:
        currency = _PREFIX_LOOKUP[match.group(1).lower()]
        s = s[match.end():]
    match = _SUFFIX.search(s)
    if match and match.start() > 0:
        suffix_currency = _SUFFIX_LOOKUP[lexicon_key(match.group(1))]
        if currency is not None and suffix_currency != currency:
            return None
        currency = suffix_currency
        s = s[: match.start()]
    return currency, s


def normalize_money(text: str) -> NumericValue | None:
    """Amount and currency of a MONEY span; unit None when no currency is written, None if not an amount.

    "23억 3000만달러" -> NumericValue(2.33e9, "USD"); "약 3~4조 원" -> (3e12..4e12 KRW, approximate).
    """
    # 원대/달러대 ("1조원대") is "in the 1-trillion range": approximate, same value.
    return parse_measure(text, _take_currency, default_unit=None, english_scales=True, extra_suffixes=("대",))
