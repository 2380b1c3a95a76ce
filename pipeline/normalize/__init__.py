"""Entity surface forms -> values: pure functions that take any str and return a value or None, never raise.

    normalize("MONEY", "23억 3000만달러") -> NumericValue(raw="23억 3000만달러", value=2330000000.0, unit="USD")
    normalize("DATE", "지난해", date(2025, 4, 8)) -> DateValue(raw="지난해", year=2024, relative=True)
"""
from __future__ import annotations

import datetime

from pipeline.normalize.dates import normalize_date
from pipeline.normalize.money import normalize_money
from pipeline.normalize.numbers import parse_korean_number
from pipeline.normalize.quantity import normalize_percent, normalize_quantity
from pipeline.normalize.types import DateValue, NumericValue

__all__ = [
    "DateValue",
    "NumericValue",
    "normalize",
    "normalize_date",
    "normalize_money",
    "normalize_percent",
    "normalize_quantity",
    "parse_korean_number",
]

_NUMERIC = {"MONEY": normalize_money, "PERCENT": normalize_percent, "QUANTITY": normalize_quantity}


def normalize(label: str, text: str, published: datetime.date | None = None) -> NumericValue | DateValue | None:
    """The value of an entity by its label (MONEY, PERCENT, QUANTITY, DATE); None for other labels or no value.

    normalize("PERCENT", "63%") -> NumericValue(63.0, "percent"); normalize("ORG", "네이버") -> None.
    """
    if not isinstance(label, str) or not isinstance(text, str):
        return None
    label = label.upper()
    if label == "DATE":
        return normalize_date(text, published)
    normalizer = _NUMERIC.get(label)
    return normalizer(text) if normalizer else None
