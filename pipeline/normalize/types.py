"""Value types produced by the normalizers. Frozen so a value can be shared between spans and claims."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class NumericValue:
    """A number with its unit, e.g. "약 3~4조 원" -> NumericValue(3e12, "KRW", value_max=4e12, approximate=True).

    `unit` is an ISO 4217 code for money (None when the text names no currency), "percent" or "pp"
    for percentages, and "count" / "rank" / "number" / a short physical code for quantities.
    `value` is the lower bound of a range and `value_max` its upper bound (None for a single value).
    """

    raw: str
    value: float | None
    unit: str | None
    value_max: float | None = None
    approximate: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DateValue:
    """A calendar point or period, e.g. "지난해 하반기" (published 2025-04-08) -> DateValue(2024, half=2, relative=True).

    Fields the text does not state stay None; a range keeps its start in the main fields and its end in
    `end_year`/`end_month`. `relative` is True when the value was resolved against the
    publication date (or could not be, for want of one), so a linker may rebase it on another anchor.
    """

    raw: str
    year: int | None
    month: int | None = None
    day: int | None = None
    half: int | None = None
    quarter: int | None = None
    relative: bool = False
    end_year: int | None = None  # a range ("2011~2020년", "4~10월"): its last year and month; None otherwise
    end_month: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
