"""normalize_percent and normalize_quantity."""
import pytest

from pipeline.normalize import normalize, normalize_percent, normalize_quantity


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("63%", 63, "percent"),
        ("0.27%", 0.27, "percent"),
        ("0.0001%", 0.0001, "percent"),
        ("28%", 28, "percent"),
        ("６３％", 63, "percent"),
        ("30퍼센트", 30, "percent"),
        ("+1.56%", 1.56, "percent"),
        ("-3.2%", -3.2, "percent"),
        ("3.5%포인트", 3.5, "pp"),
        ("3.5% 포인트", 3.5, "pp"),
        ("2%p", 2, "pp"),
        ("2%P", 2, "pp"),
        ("0.5퍼센트포인트", 0.5, "pp"),
    ],
)
def test_percent(text, value, unit):
    result = normalize_percent(text)
    assert result is not None
    assert result.value == pytest.approx(value)
    assert result.unit == unit
    assert result.value_max is None


@pytest.mark.parametrize(
    ("text", "low", "high", "approximate"),
    [
        ("20~40%", 20, 40, False),
        ("20%~40%", 20, 40, False),
        ("-3~-1%", -3, -1, False),
        ("약 20~30%", 20, 30, True),
    ],
)
def test_percent_ranges(text, low, high, approximate):
    result = normalize_percent(text)
    assert result is not None
    assert (result.value, result.value_max) == (pytest.approx(low), pytest.approx(high))
    assert result.approximate is approximate


@pytest.mark.parametrize("text", ["", "%", "63", "수십%", "1.2.3%", "40%~20%", "63개"])
def test_percent_rejects(text):
    assert normalize_percent(text) is None


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("40개", 40, "count"),
        ("1만8천장", 18000, "count"),
        ("12.4건", 12.4, "count"),
        ("48개국", 48, "count"),
        ("3개사", 3, "count"),
        ("500명", 500, "count"),
        ("1만 명", 10000, "count"),
        ("10대", 10, "count"),
        ("5곳", 5, "count"),
        ("3회", 3, "count"),
        ("두 차례", 2, "count"),
        ("열두 명", 12, "count"),
        ("100가구", 100, "count"),
        ("2채", 2, "count"),
        ("11위", 11, "rank"),
        ("-0.36", -0.36, "number"),
        ("133,384,000", 133384000, "number"),
        ("1기가와트", 1, "GW"),
        ("3GW", 3, "GW"),
        ("500메가와트", 500, "MW"),
        ("10만톤", 100000, "t"),
        ("300킬로미터", 300, "km"),
        ("300 km", 300, "km"),
        ("２배", 2, "times"),
        ("85점", 85, "score"),
        ("3년간", 3, "year"),
        ("6개월", 6, "month"),
    ],
)
def test_quantity(text, value, unit):
    result = normalize_quantity(text)
    assert result is not None
    assert result.value == pytest.approx(value)
    assert result.unit == unit
    assert result.approximate is False


@pytest.mark.parametrize(
    ("text", "value", "high", "unit", "approximate"),
    [
        ("1000여 명", 1000, None, "count", True),
        ("약 40개", 40, None, "count", True),
        ("100개 이상", 100, None, "count", True),
        ("3~4개", 3, 4, "count", False),
        ("20~30명", 20, 30, "count", False),
        ("3천~4천만 명", 3e7, 4e7, "count", False),
    ],
)
def test_quantity_modifiers_and_ranges(text, value, high, unit, approximate):
    result = normalize_quantity(text)
    assert result is not None
    assert result.value == pytest.approx(value)
    assert result.value_max == (None if high is None else pytest.approx(high))
    assert result.unit == unit
    assert result.approximate is approximate


@pytest.mark.parametrize(
    "text",
    [
        "",
        "억",
        "1.2.3",
        "9위에서 11위",  # two entities, not one
        "수십 명",
        "몇 개",
        "개",
        "63%",
        "3마력",  # unknown unit
        "제21대",
        "[035720]",
    ],
)
def test_quantity_rejects(text):
    assert normalize_quantity(text) is None


def test_dispatch():
    assert normalize("PERCENT", "63%").unit == "percent"
    assert normalize("QUANTITY", "11위").unit == "rank"
    assert normalize("DATE", "63%") is None


@pytest.mark.parametrize("text, surface, expected", [
    ("한국은 한 명의 수상자도 배출하지 못했다", "한 명", 0.0),
    ("한국은 하나도 개발하지 못했다", "하나", 0.0),
    ("한 명도 없었다", "한 명", 0.0),
    ("한국은 1개에 그쳤다", "1개", 1.0),
    ("한 명의 수상자를 배출했다", "한 명", 1.0),
])
def test_not_even_one_is_zero(text, surface, expected):
    from pipeline.nlp import blank_pipeline
    from pipeline.components.normalize import ValueNormalizer

    doc = blank_pipeline()(text)
    start = text.index(surface)
    doc.ents = [doc.char_span(start, start + len(surface), "QUANTITY", alignment_mode="expand")]
    ValueNormalizer("kfact_normalize")(doc)
    assert doc.ents[0]._.value.value == expected
    assert doc.ents[0]._.value.unit == "count"


@pytest.mark.parametrize("text, value", [("4:1", 4.0), ("경쟁률 없이 6.5대1", None), ("6.5대1", 6.5), ("3.75 : 1", 3.75),
                                         ("1,200:1", 1200.0), ("10:30", None), ("2:3", None)])
def test_a_ratio_to_one_is_a_multiple(text, value):
    got = normalize_quantity(text)
    if value is None:
        assert got is None or got.unit != "times"
    else:
        assert (got.value, got.unit) == (value, "times")


@pytest.mark.parametrize("text, value, unit", [("△17.7%", -17.7, "percent"), ("△1.2%p", -1.2, "pp"),
                                               ("▽3%", -3.0, "percent"), ("▲3.1%", 3.1, "percent")])
def test_the_triangle_of_korean_tables_is_a_minus(text, value, unit):
    got = normalize("PERCENT", text)
    assert (got.value, got.unit) == (value, unit)
