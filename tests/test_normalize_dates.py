"""normalize_date: absolute dates, and relative ones resolved against the publication date."""
from datetime import date

import pytest

from pipeline.normalize import DateValue, normalize, normalize_date

PUBLISHED = date(2025, 4, 8)


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        # absolute
        ("2022년", dict(year=2022)),
        ("2022년도", dict(year=2022)),
        ("2025-04-08", dict(year=2025, month=4, day=8)),
        ("2025.12.17", dict(year=2025, month=12, day=17)),
        ("2025. 12. 17.", dict(year=2025, month=12, day=17)),
        ("2025/4/8", dict(year=2025, month=4, day=8)),
        # two-digit years with an apostrophe, as press releases write them
        ("’23년", dict(year=2023)),
        ("‘19년도", dict(year=2019)),
        ("'22.6.", dict(year=2022, month=6)),
        ("’18년 3월", dict(year=2018, month=3)),
        ("’99", dict(year=1999)),
        ("‘13.", dict(year=2013)),
        ("２０２５－０４－０８", dict(year=2025, month=4, day=8)),
        ("2023년 3월 5일", dict(year=2023, month=3, day=5)),
        ("2009년 1월", dict(year=2009, month=1)),
        ("2020년까지", dict(year=2020)),
        ("2024년 말", dict(year=2024)),
        ("2024년 4분기", dict(year=2024, quarter=4)),
        ("2024년 상반기", dict(year=2024, half=1)),
        ("지난 2022년 11월", dict(year=2022, month=11)),
        ("오는 2030년", dict(year=2030)),
        # relative to 2025-04-08
        ("지난 2월", dict(year=2025, month=2, relative=True)),
        ("지난 5월", dict(year=2024, month=5, relative=True)),
        ("오는 5월", dict(year=2025, month=5, relative=True)),
        ("오는 3월", dict(year=2026, month=3, relative=True)),
        ("지난해 하반기", dict(year=2024, half=2, relative=True)),
        ("지난해", dict(year=2024, relative=True)),
        ("작년", dict(year=2024, relative=True)),
        ("올해", dict(year=2025, relative=True)),
        ("금년", dict(year=2025, relative=True)),
        ("내년", dict(year=2026, relative=True)),
        ("재작년", dict(year=2023, relative=True)),
        ("전년", dict(year=2024, relative=True)),
        ("전년 동기", dict(year=2024, relative=True)),
        ("지난해 말", dict(year=2024, relative=True)),
        ("지난해 3월", dict(year=2024, month=3, relative=True)),
        ("올 상반기", dict(year=2025, half=1, relative=True)),
        ("상반기", dict(year=2025, half=1, relative=True)),
        ("1분기", dict(year=2025, quarter=1, relative=True)),
        ("4분기", dict(year=2025, quarter=4, relative=True)),
        ("올해 1·4분기", dict(year=2025, quarter=1, relative=True)),
        ("3월", dict(year=2025, month=3, relative=True)),
        ("3월 5일", dict(year=2025, month=3, day=5, relative=True)),
        ("12일", dict(year=2025, month=4, day=12, relative=True)),
        ("12일(현지시간)", dict(year=2025, month=4, day=12, relative=True)),
        ("지난 12일", dict(year=2025, month=3, day=12, relative=True)),
        ("지난달", dict(year=2025, month=3, relative=True)),
        ("다음 달", dict(year=2025, month=5, relative=True)),
        ("오늘", dict(year=2025, month=4, day=8, relative=True)),
        ("어제", dict(year=2025, month=4, day=7, relative=True)),
        ("연말", dict(year=2025, relative=True)),
    ],
)
def test_dates(text, fields):
    assert normalize_date(text, PUBLISHED) == DateValue(raw=text, **{"year": None, **fields})


def test_last_february_in_january_is_the_previous_year():
    assert normalize_date("지난 2월", date(2025, 1, 10)) == DateValue("지난 2월", 2024, 2, relative=True)


def test_last_month_wraps_the_year():
    assert normalize_date("지난달", date(2025, 1, 10)) == DateValue("지난달", 2024, 12, relative=True)


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("지난해", dict()),
        ("전년", dict()),
        ("지난 2월", dict(month=2)),
        ("지난해 하반기", dict(half=2)),
        ("12일", dict(day=12)),
        ("이듬해", dict()),
    ],
)
def test_relative_without_published_keeps_year_unknown(text, fields):
    assert normalize_date(text, None) == DateValue(raw=text, year=None, relative=True, **fields)


def test_absolute_does_not_need_published():
    assert normalize_date("2025-04-08") == DateValue("2025-04-08", 2025, 4, 8)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "최근",
        "2025-02-30",
        "2025년 13월",
        "2025년 4월 31일",
        "3월 2024년",
        "2024년 12일",
        "2024~2020년",  # a range must not run backwards
        "1990년대",
        "오후 3시",
        "3년간",
    ],
)
def test_rejects(text):
    assert normalize_date(text, PUBLISHED) is None


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2011~2020년", (2011, None), (2020, None)),
        ("’20~’24년", (2020, None), (2024, None)),
        ("2021년부터 2023년까지", (2021, None), (2023, None)),
        ("2020-2024년", (2020, None), (2024, None)),
        ("4~10월", (2025, 4), (2025, 10)),  # the start borrows the end's unit; both take the publication year
        ("2023.1~6월", (2023, 1), (2023, 6)),  # the end borrows the start's year
        ("지난해~올해", (2024, None), (2025, None)),
    ],
)
def test_ranges_keep_both_ends(text, start, end):
    value = normalize_date(text, PUBLISHED)
    assert (value.year, value.month) == start
    assert (value.end_year, value.end_month) == end


def test_an_iso_date_is_not_a_range():
    value = normalize_date("2025-04-08", PUBLISHED)
    assert (value.year, value.month, value.day, value.end_year) == (2025, 4, 8, None)


def test_dispatch_and_to_dict():
    result = normalize("DATE", "지난해 하반기", PUBLISHED)
    assert result.to_dict() == {
        "raw": "지난해 하반기", "year": 2024, "month": None, "day": None, "half": 2, "quarter": None, "relative": True,
        "end_year": None, "end_month": None,
    }
    assert normalize_date("지난해", "2025-04-08") == DateValue("지난해", None, relative=True)  # type: ignore[arg-type]
