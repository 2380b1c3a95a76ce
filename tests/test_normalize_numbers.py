"""parse_korean_number: Korean numerals, grouped units, signs and non-numbers."""
import pytest

from pipeline.normalize import parse_korean_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("40", 40),
        ("1,234,567", 1234567),
        ("1,234.5", 1234.5),
        ("0.27", 0.27),
        ("-0.36", -0.36),
        ("−0.36", -0.36),  # U+2212 minus sign
        ("+1.56", 1.56),
        ("마이너스 3", -3),
        ("▼1.5", -1.5),
        ("3천512만4천56", 35124056),
        ("1천90억", 109000000000),
        ("23억 3000만", 2330000000),
        ("1조8000억", 1.8e12),
        ("1만8천", 18000),
        ("13억3000만", 1330000000),
        ("47억6000만", 4760000000),
        ("999조", 9.99e14),
        ("1.5조", 1.5e12),
        ("1경", 1e16),
        ("삼십", 30),
        ("이천", 2000),
        ("십삼", 13),
        ("오십만", 500000),
        ("백만", 1000000),
        ("천만", 10000000),
        ("１２３억", 12300000000),  # full-width digits
        ("１，０００", 1000),
        ("  42  ", 42),
    ],
)
def test_parses(text, expected):
    assert parse_korean_number(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "억",
        "만",
        "조원",
        "1.2.3",
        "수백",
        "수십억",
        "몇",
        "3 4",  # two numbers
        "12,34",  # a comma that is not a thousands separator
        "1,2345",
        "3천5000",  # the lower group is bigger than the unit before it
        "1억 20000만",
        "1만 2억",  # units out of order
        "3천천",
        "12천",
        "1억만",
        "-",
        "1.",
        ".5",
        "abc",
        "3월",
        "٣",  # Arabic-Indic digit: not something Korean news writes
    ],
)
def test_rejects(text):
    assert parse_korean_number(text) is None


def test_non_string_input_is_none():
    assert parse_korean_number(None) is None  # type: ignore[arg-type]
    assert parse_korean_number(12) is None  # type: ignore[arg-type]
