"""Span repair after the entity model: spelling facts about Korean numbers, not judgements."""
import pytest

from pipeline.ner.repair import RepairLexicon, repair_value_spans
from pipeline.paths import CONFIG_DIR

LEXICON = RepairLexicon.from_toml(CONFIG_DIR / "value_repair.toml")
from pipeline.nlp import blank_pipeline


@pytest.fixture(scope="module")
def nlp():
    return blank_pipeline()


def _spans(doc, wanted):
    """[(surface, label)] -> token spans, located in order."""
    spans, position = [], 0
    for surface, label in wanted:
        start_char = doc.text.index(surface, position)
        span = doc.char_span(start_char, start_char + len(surface), alignment_mode="strict")
        assert span is not None, surface
        spans.append((span.start, span.end, label))
        position = start_char + len(surface)
    return spans


def _texts(doc, spans):
    return [(doc[s:e].text, label) for s, e, label in spans]


@pytest.mark.parametrize("text, predicted, expected", [
    ("40개를 기록한 미국", [("40", "MONEY"), ("개", "QUANTITY")], [("40개", "QUANTITY")]),
    ("9위에서 11위로", [("9", "DATE"), ("위", "QUANTITY"), ("11", "DATE")], [("9위", "QUANTITY"), ("11위", "QUANTITY")]),
    ("지표는 -0.36으로", [("0.36", "QUANTITY")], [("-0.36", "QUANTITY")]),
    ("2번째로 큰", [("2", "QUANTITY")], [("2번째", "QUANTITY")]),
    ("만 명이 넘는", [("만", "MONEY")], []),
    ("13억 3000만 달러", [("13억", "MONEY"), ("3000만 달러", "MONEY")], [("13억 3000만 달러", "MONEY")]),
    ("2024년 11월", [("2024년 11월", "DATE")], [("2024년 11월", "DATE")]),
    ("3-4개", [("3-4", "QUANTITY")], [("3-4개", "QUANTITY")]),
])
def test_repair(nlp, text, predicted, expected):
    doc = nlp(text)
    assert _texts(doc, repair_value_spans(doc, _spans(doc, predicted), LEXICON)) == expected


def test_a_minus_inside_a_range_is_not_a_sign(nlp):
    doc = nlp("3 -4개")
    spans = repair_value_spans(doc, _spans(doc, [("4개", "QUANTITY")]), LEXICON)
    assert _texts(doc, spans) == [("4개", "QUANTITY")]


@pytest.mark.parametrize("text, predicted, expected", [
    ("전분기 대비 2분기 실적", [("2", "QUANTITY"), ("분기", "DATE")], [("2분기", "DATE")]),
    ("2010년 1월 계약", [("2010년", "DATE"), ("1", "MONEY"), ("월", "DATE")], [("2010년", "DATE"), ("1월", "DATE")]),
    ("만 남겨 두고 있었다", [("남겨", "QUANTITY"), ("두", "QUANTITY")], []),
    ("하나도 없다", [("하나", "QUANTITY")], [("하나", "QUANTITY")]),
    ("수백억원을 들여", [("수백억원", "MONEY")], [("수백억원", "MONEY")]),
])
def test_model_slips(nlp, text, predicted, expected):
    doc = nlp(text)
    assert _texts(doc, repair_value_spans(doc, _spans(doc, predicted), LEXICON)) == expected
