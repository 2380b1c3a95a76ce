"""The HTML evaluation report: SVG bars, displaCy gold/predicted markup, the claims table, comparison deltas.

Built from real Kiwi docs with hand-set predictions, so every error and claim status is known in advance.
"""
import re

import pytest

from pipeline.io.annotations import AnnotatedRecord
from pipeline.evaluation.metrics import EvalResult, claim_metrics, compare_results, entity_metrics, worst_sentences
from pipeline.evaluation.report import render_report, write_report
from pipeline.schema import Article, Claim

TEXT = "미국은 1091억 달러로 1위였다. 한국은 13억 달러로 11위를 기록했다."


def _at(surface: str, label: str) -> tuple[int, int, str]:
    start = TEXT.index(surface)
    return start, start + len(surface), label


GOLD_ENTS = [_at("미국", "COUNTRY"), _at("1091억 달러", "MONEY"), _at("1위", "QUANTITY"), _at("한국", "COUNTRY"),
             _at("13억 달러", "MONEY"), _at("11위", "QUANTITY")]
# Predicted: 미국 as ORG (label error), 1위 missed, 기록 spurious; the rest right.
PRED_ENTS = [_at("미국", "ORG"), _at("1091억 달러", "MONEY"), _at("한국", "COUNTRY"), _at("13억 달러", "MONEY"),
             _at("11위", "QUANTITY"), _at("기록", "ORG")]
US_MONEY, KR_MONEY, KR_RANK = GOLD_ENTS[1][:2], GOLD_ENTS[4][:2], GOLD_ENTS[5][:2]


def _claim(subject, sid, value, unit, span):
    return {"subject": {"text": subject, "type": "COUNTRY", "id": sid},
            "indicator": {"id": "ai_private_investment", "text": "투자"}, "year": 2024, "value": value,
            "unit": unit, "value_span": {"start": span[0], "end": span[1]}}


@pytest.fixture(scope="module")
def result(nlp_blank):
    record = AnnotatedRecord(
        id="rep-1", text=TEXT, published="2025-04-08", split="test",
        entities=[{"start": a, "end": b, "label": label, "text": TEXT[a:b]} for a, b, label in GOLD_ENTS],
        claims=[_claim("미국", "US", 109100000000, "USD", US_MONEY), _claim("한국", "KR", 1300000000, "USD", KR_MONEY),
                _claim("한국", "KR", 11, "rank", KR_RANK)])
    doc = nlp_blank.make_doc(TEXT)
    doc._.article = Article.model_construct(id="rep-1", text=doc.text, published=None)
    doc.ents = [doc.char_span(a, b, label=label) for a, b, label in PRED_ENTS]
    predicted = [Claim.model_validate(_claim("한국", "KR", 1300000000, "USD", KR_MONEY)),   # match
                 Claim.model_validate(_claim("한국", "KR", 12, "rank", KR_RANK))]          # wrong value: FP + miss
    claims = claim_metrics({"rep-1": list(record.claims)}, {"rep-1": predicted})
    return EvalResult("models/a", "test", [record], [doc], entity_metrics([record], [doc]),
                      {"end to end, learned": claims}, seconds=0.5, chars=len(TEXT))


def test_worst_sentences_classify_errors(result):
    worst = worst_sentences(result.records, result.docs)
    kinds = sorted(kind for s in worst for kind, *_ in s.errors)
    assert kinds == ["label", "missed", "spurious"]
    assert worst[0].count >= worst[-1].count


def test_report_has_bars_displacy_and_marked_claims(result, tmp_path):
    page = write_report(tmp_path, [result], None, ["gold.jsonl"]).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<link" not in page and "<script src" not in page
    # One P, R and F1 bar per label in the inline SVG.
    labels = set(result.entities["per_label"])
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="bars"' in page
    assert len(re.findall(r'<rect class="bar" data-label="[A-Z]+" data-metric="(?:precision|recall|f1)"', page)) == 3 * len(labels)
    # displaCy markup, gold and predicted side by side: 미국 is COUNTRY on the left and ORG on the right.
    gold_html = "".join(re.findall(r'<div class="gold">(.*?)<div class="pred">', page, re.S))
    pred_html = "".join(re.findall(r'<div class="pred">(.*?)</div></div>', page, re.S))
    assert 'class="entities"' in gold_html and 'class="entities"' in pred_html
    assert re.search(r'<mark class="entity"[^>]*>\s*미국\s*<span[^>]*>COUNTRY</span>', gold_html)
    assert re.search(r'<mark class="entity"[^>]*>\s*미국\s*<span[^>]*>ORG</span>', pred_html)
    assert "기록" in pred_html and not re.search(r">\s*기록\s*<span", gold_html)
    # Claims: one match, two misses (미국, the rank), one false positive (rank 12), each coloured and labelled.
    rows = re.findall(r'<tr class="(match|miss|false-positive)" style="background:#[0-9a-f]{6}">'
                      r'<td class="status">([^<]+)</td><td>rep-1</td>', page)
    assert sorted(rows) == sorted([("match", "✓ match"), ("miss", "✗ miss"), ("miss", "✗ miss"),
                                   ("false-positive", "+ false positive")])
    assert "chars/s" in page


def test_comparison_section_shows_deltas(result):
    better = EvalResult("models/b", "test", result.records, result.docs, dict(result.entities, per_label={
        label: dict(m, f1=min(1.0, m["f1"] + 0.25)) for label, m in result.entities["per_label"].items()}),
        result.claims, seconds=1.0, chars=result.chars)
    comparison = compare_results([result, better])
    rows = {row["label"]: row for row in comparison["entities"]}
    assert rows["MONEY"]["delta"][1] == pytest.approx(min(1.0, rows["MONEY"]["f1"][0] + 0.25) - rows["MONEY"]["f1"][0])
    page = render_report([result, better], comparison)
    assert "Model comparison" in page and 'class="bars compare"' in page
    assert re.search(r'<td class="num up">\+0\.2[0-9]{2}</td>', page)


def test_claim_f1_interval_resamples_articles_not_claims():
    from pipeline.evaluation.metrics import article_interval

    # ten articles of one claim each, half right: a wide interval around 0.5
    lo, hi = article_interval([(1, 0, 0)] * 5 + [(0, 1, 1)] * 5)
    assert lo < 0.5 < hi and hi - lo > 0.2
    # the same 10 right and 10 wrong claims, but in two articles: the interval is as wide as the split allows
    lo2, hi2 = article_interval([(5, 0, 0), (0, 5, 5)])
    assert lo2 == 0.0 and hi2 == 1.0
    # every article perfect: no spread
    assert article_interval([(3, 0, 0)] * 4) == (1.0, 1.0)
    # deterministic (fixed seed), so a report is reproducible
    assert article_interval([(1, 2, 0), (2, 0, 1), (0, 1, 1)]) == article_interval([(1, 2, 0), (2, 0, 1), (0, 1, 1)])


def test_claim_metrics_group_records_by_article_for_the_interval():
    gold = {"a-p1": [], "a-p2": [], "b": []}
    result = claim_metrics(gold, {"a-p1": [], "b": []}, {"a-p1": "a", "a-p2": "a", "b": "b"})
    assert result["articles"] == 2 and len(result["micro"]["interval"]) == 2
    assert "interval" not in claim_metrics(gold, {})["micro"]
