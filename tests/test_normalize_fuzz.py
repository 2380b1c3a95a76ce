"""Property tests: every public normalizer takes any str, never raises, and returns only finite numbers."""
import math
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.normalize import (
    DateValue,
    NumericValue,
    normalize,
    normalize_date,
    normalize_money,
    normalize_percent,
    normalize_quantity,
    parse_korean_number,
)

NUMBERISH = st.text(
    alphabet=st.sampled_from(list("0123456789만억조경천백십일이삼사오원달러%위개~.,- 약여년월")),
    max_size=20,
)
DATEISH = st.text(
    alphabet=st.sampled_from(list("0123456789년월일지난해올전내상하반기분·.-/ 까지말")),
    max_size=16,
)
ANY_TEXT = st.one_of(st.text(), NUMBERISH)
PUBLISHED = st.one_of(st.none(), st.dates())
LABELS = st.sampled_from(["MONEY", "PERCENT", "QUANTITY", "DATE", "ORG", ""])


def _finite_numeric(result):
    if result is None:
        return
    assert isinstance(result, NumericValue)
    assert result.value is not None and math.isfinite(result.value)
    if result.value_max is not None:
        assert math.isfinite(result.value_max)
        assert result.value_max >= result.value


@settings(max_examples=400)
@given(ANY_TEXT)
def test_parse_korean_number(text):
    result = parse_korean_number(text)
    assert result is None or (isinstance(result, float) and math.isfinite(result))


@settings(max_examples=400)
@given(ANY_TEXT)
def test_normalize_money(text):
    _finite_numeric(normalize_money(text))


@settings(max_examples=400)
@given(ANY_TEXT)
def test_normalize_percent(text):
    _finite_numeric(normalize_percent(text))


@settings(max_examples=400)
@given(ANY_TEXT)
def test_normalize_quantity(text):
    _finite_numeric(normalize_quantity(text))


@settings(max_examples=400)
@given(st.one_of(st.text(), NUMBERISH, DATEISH), PUBLISHED)
def test_normalize_date(text, published):
    result = normalize_date(text, published)
    if result is not None:
        assert isinstance(result, DateValue)
        assert result.month is None or 1 <= result.month <= 12
        assert result.day is None or 1 <= result.day <= 31


@settings(max_examples=200)
@given(LABELS, st.one_of(st.text(), NUMBERISH, DATEISH), PUBLISHED)
def test_normalize_dispatch(label, text, published):
    result = normalize(label, text, published)
    if isinstance(result, NumericValue):
        _finite_numeric(result)


@given(st.integers(min_value=0, max_value=10**15))
def test_arabic_integers_round_trip(n):
    assert parse_korean_number(f"{n:,}") == float(n)
    assert parse_korean_number(str(n)) == float(n)


@given(st.integers(min_value=0, max_value=9999), st.integers(min_value=0, max_value=9999),
       st.integers(min_value=0, max_value=9999))
def test_grouped_korean_numbers(eok, man, rest):
    text = (f"{eok}억" if eok else "") + (f"{man}만" if man else "") + (str(rest) if rest else "")
    if text:
        assert parse_korean_number(text) == float(eok * 10**8 + man * 10**4 + rest)


@given(st.dates(min_value=date(2, 1, 1)))
def test_last_year_is_relative_to_published(published):
    assert normalize_date("지난해", published) == DateValue("지난해", published.year - 1, relative=True)


@given(st.dates(min_value=date(1, 1, 1), max_value=date(1, 12, 31)))
def test_relative_year_before_year_one_is_none(published):
    assert normalize_date("지난해", published) is None


# Crawl-shaped hostile strings: full-width forms, decomposed Hangul, control and format characters, huge
# digit runs, and lengths around the normalizers' MAX_LEN cut-off.
HOSTILE = st.one_of(
    st.lists(st.sampled_from(list("０１２３４５６７８９．，％억조만원달러") + ["\x00", "\u200b", "\ufeff", "\u202e",
                                                                     "\u1100\u1165\u11a8", "e\u0301", "∞", "NaN"]),
             max_size=30).map("".join),
    st.builds(lambda digits, unit: digits + unit, st.text(alphabet="0123456789,.", min_size=1, max_size=400),
              st.sampled_from(["", "억", "조 원", "%", "달러", "배", "e308"])),
    st.text(min_size=60, max_size=70),
)


@settings(max_examples=300)
@given(LABELS, HOSTILE, PUBLISHED)
def test_hostile_strings_give_a_value_or_none(label, text, published):
    result = normalize(label, text, published)
    assert result is None or isinstance(result, (NumericValue, DateValue))
    if isinstance(result, NumericValue):
        _finite_numeric(result)
    number = parse_korean_number(text)
    assert number is None or math.isfinite(number)


@given(st.integers(min_value=0, max_value=10**12))
def test_full_width_digits_read_like_ascii(n):
    full = str(n).translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    assert parse_korean_number(full) == float(n)
    assert normalize_money(full + "억 원").value == float(n) * 1e8
