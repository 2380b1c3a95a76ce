"""normalize_money: amounts, currencies, modifiers and ranges."""
import pytest

from pipeline.normalize import NumericValue, normalize, normalize_money


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("23억 3000만달러", 2330000000, "USD"),
        ("1조8000억 원", 1.8e12, "KRW"),
        ("1천90억유로", 1.09e11, "EUR"),
        ("3천512만4천56달러", 35124056, "USD"),
        ("47억6000만 달러", 4.76e9, "USD"),
        ("13억3000만 달러", 1330000000, "USD"),
        ("1917억 위안", 1.917e11, "CNY"),
        ("1,234,567원", 1234567, "KRW"),
        ("999조", 9.99e14, None),  # no currency written: the linker decides
        ("$1.33 billion", 1.33e9, "USD"),
        ("US$ 10 million", 1e7, "USD"),
        ("€5bn", 5e9, "EUR"),
        ("1.2 trillion won", 1.2e12, "KRW"),
        ("USD 300", 300, "USD"),
        ("100만불", 1e6, "USD"),
        ("₩1,000", 1000, "KRW"),
        ("￦1,000", 1000, "KRW"),
        ("100元", 100, "CNY"),
        ("50억 RMB", 5e9, "CNY"),
        ("1000엔", 1000, "JPY"),
        ("¥1000", 1000, "JPY"),
        ("CN¥1000", 1000, "CNY"),
        ("300만 파운드", 3e6, "GBP"),
        ("£3m", 3e6, "GBP"),
        ("10억 홍콩달러", 1e9, "HKD"),
        ("미화 100만 달러", 1e6, "USD"),
        ("１２３억원", 12300000000, "KRW"),
        ("총 5조 원", 5e12, "KRW"),
    ],
)
def test_amount_and_currency(text, value, unit):
    result = normalize_money(text)
    assert result is not None
    assert result.value == pytest.approx(value)
    assert result.unit == unit
    assert result.value_max is None
    assert result.approximate is False
    assert result.raw == text


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("약 164조원", 1.64e14, "KRW"),
        ("대략 3억 달러", 3e8, "USD"),
        ("1000억원 가량", 1e11, "KRW"),
        ("300여억 원", 3e10, "KRW"),
        ("300억여 원", 3e10, "KRW"),
        ("5조원 수준", 5e12, "KRW"),
        ("최대 500억유로", 5e10, "EUR"),
        ("최소 10억 달러", 1e9, "USD"),
        ("1조원 이상", 1e12, "KRW"),
        ("100만원 이하", 1e6, "KRW"),
        ("1억 달러 남짓", 1e8, "USD"),
        ("1조원대", 1e12, "KRW"),
        ("한화 약 3조 원", 3e12, "KRW"),
    ],
)
def test_approximate_keeps_the_value(text, value, unit):
    result = normalize_money(text)
    assert result is not None
    assert result.value == pytest.approx(value)
    assert result.unit == unit
    assert result.approximate is True


@pytest.mark.parametrize(
    ("text", "low", "high", "unit"),
    [
        ("3~4조 원", 3e12, 4e12, "KRW"),
        ("3-4조원", 3e12, 4e12, "KRW"),
        ("3조~4조 원", 3e12, 4e12, "KRW"),
        ("3천~4천만 원", 3e7, 4e7, "KRW"),
        ("5000억~1조 원", 5e11, 1e12, "KRW"),
        ("3억 달러~4억 달러", 3e8, 4e8, "USD"),
        ("$3-4 billion", 3e9, 4e9, "USD"),
        ("1.5~2억 달러", 1.5e8, 2e8, "USD"),
    ],
)
def test_ranges(text, low, high, unit):
    result = normalize_money(text)
    assert result is not None
    assert (result.value, result.value_max) == (pytest.approx(low), pytest.approx(high))
    assert result.unit == unit


def test_approximate_range():
    assert normalize_money("약 3~4조 원") == NumericValue("약 3~4조 원", 3e12, "KRW", 4e12, True)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "억",
        "1.2.3",
        "수백조원",  # vague amounts are not values
        "수십억 달러",
        "몇 조 원",
        "원",
        "달러",
        "만원",
        "3억 달러~4억 유로",  # two currencies
        "4조~3조 원",  # upside-down range
        "$",
        "billion",
        "$ billion",
        "10억 달러(약 1조 3000억 원)",  # two amounts are two spans
    ],
)
def test_rejects(text):
    assert normalize_money(text) is None


def test_dispatch_and_to_dict():
    result = normalize("MONEY", "23억 3000만달러")
    assert result == NumericValue("23억 3000만달러", 2330000000.0, "USD")
    assert result.to_dict() == {
        "raw": "23억 3000만달러", "value": 2330000000.0, "unit": "USD", "value_max": None, "approximate": False,
    }
    assert normalize("money", "1조원").unit == "KRW"
    assert normalize("ORG", "네이버") is None
    assert normalize("MONEY", None) is None  # type: ignore[arg-type]


def test_typeset_minus_and_mln():
    from pipeline.normalize import normalize

    assert normalize("MONEY", "–92억원").value == -9.2e9  # an en dash before the number
    assert (normalize("MONEY", "21mln 유로").value, normalize("MONEY", "21mln 유로").unit) == (21e6, "EUR")
    assert normalize("MONEY", "$30.3mln").value == 30.3e6
