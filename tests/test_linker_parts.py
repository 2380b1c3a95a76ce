"""The linker's parts one at a time: year candidates, the document frame, the semantic indicator features,
the scorer's taxonomy check and `kfact taxonomy suggest`."""
import json

import pytest

from pipeline.evaluation.metrics import docs_with_gold_entities
from pipeline.linking.candidates import year_candidates
from pipeline.linking.frame import document_frame
from pipeline.linking.linker import LinkerConfig, build_linker
from pipeline.linking.scorers import LearnedScorer
from pipeline.linking.suggest import suggest
from pipeline.linking.taxonomy import load_report_editions
from tests.test_linker import facts, make_record


def _doc(nlp, text, spans, published="2025-04-08"):
    return docs_with_gold_entities(nlp, [make_record(text, spans, published)])[0]


def _value_and_sentence(doc, surface):
    value = next(e for e in doc.ents if e.text == surface)
    return value, next(s for s in doc.sents if s.start_char <= value.start_char < s.end_char)


def test_a_range_offers_its_last_year_too(nlp_blank):
    doc = _doc(nlp_blank, "’12~’21년 인공지능 특허 출원은 모두 1만2000건이다.", [("’12~’21년", "DATE"), ("1만2000건", "QUANTITY")])
    value, sentence = _value_and_sentence(doc, "1만2000건")
    candidates = year_candidates(doc, sentence, value, None, None, None, None, 2025)
    by_year = {(c.year, c.source, c.minus_one): c for c in candidates}
    assert by_year[(2012, "sentence_before", False)].features["range_start"] == 1.0
    assert by_year[(2021, "sentence_before", False)].features["range_end"] == 1.0


def test_a_comparison_base_is_not_a_year_candidate(nlp_blank):
    # 전년 is resolved against publication (2024); here the sentence's own year minus one (2023) is meant.
    doc = _doc(nlp_blank, "지난해 투자는 13억 달러로 전년(14억 달러)보다 줄었다.",
               [("지난해", "DATE"), ("13억 달러", "MONEY"), ("전년", "DATE"), ("14억 달러", "MONEY")])
    value, sentence = _value_and_sentence(doc, "14억 달러")
    candidates = year_candidates(doc, sentence, value, None, None, None, None, 2025)
    sentence_years = {(c.year, c.minus_one) for c in candidates if c.source.startswith("sentence")}
    assert sentence_years == {(2024, False), (2023, True)}
    assert all(c.features["minus_one_previous_marker"] == float(c.minus_one) for c in candidates
               if c.source.startswith("sentence"))


def test_the_lede_sets_the_article_year(nlp_blank):
    text = "지난해 출생아 수는 23만 명으로 집계됐다.\n\n서울의 출생아 수는 3만9000명이었다."
    doc = _doc(nlp_blank, text, [("지난해", "DATE"), ("23만 명", "QUANTITY"), ("서울", "LOCATION"), ("3만9000명", "QUANTITY")])
    frame = document_frame(doc, load_report_editions())
    assert frame.article_year == 2024 and frame.published_year == 2025
    assert len(frame.paragraphs) == 2 and frame.paragraphs[1].year is None


def test_rules_take_the_article_year_where_a_paragraph_names_none(nlp_blank):
    text = "지난해 출생아 수는 23만 명으로 집계됐다.\n\n서울의 출생아 수는 3만9000명이었다."
    linker = build_linker(LinkerConfig(scorer_path=""))
    doc = _doc(nlp_blank, text, [("지난해", "DATE"), ("23만 명", "QUANTITY"), ("서울", "LOCATION"), ("3만9000명", "QUANTITY")])
    years = {c.value: c.year for c, _ in linker.link(doc)}
    assert years.get(39000) == 2024


@pytest.fixture(scope="module")
def shipped_linker():
    return build_linker(LinkerConfig())


def test_indicator_similarities_cover_every_indicator(shipped_linker, nlp_blank):
    doc = _doc(nlp_blank, "미국의 민간 AI 투자는 1091억 달러였다.", [("미국", "COUNTRY"), ("1091억 달러", "MONEY")])
    (claim, case), = shipped_linker.link(doc, keep_all=True)
    assert case.indicator_x.shape[0] == len(shipped_linker.indicators) + 1  # every indicator and `other`
    assert set(case.vectors) >= {"local", "sentence"}
    assert all(abs(float((v ** 2).sum()) - 1.0) < 1e-3 for v in case.vectors.values() if v.any())


def test_a_paraphrase_is_nearest_to_its_indicator_description(shipped_linker):
    # No alias of ai_private_investment occurs in the sentence; its description ("민간 부문의 AI 투자액") does.
    from pipeline.linking.semantic import ValueTexts

    sentence = "지난해 국내 민간 기업들이 인공지능 개발에 쏟아부은 돈은 13억 달러로 집계됐다."
    sims, _ = shipped_linker.semantics.similarities([ValueTexts(sentence, sentence, "", "")])
    ids = [i.id for i in shipped_linker.indicators]
    ranked = [ids[j] for j in sims["sentence"][0].argsort()[::-1]]
    assert "ai_private_investment" in ranked[:5], ranked[:5]


def test_a_scorer_trained_on_another_taxonomy_is_refused(tmp_path):
    from pipeline.linking.linker import ClaimLinker  # noqa: F401  (the path the config loads through)

    data = json.loads(open("models/kfact-linker/scorer.json", encoding="utf-8").read())
    data["taxonomy"] = "0" * 40
    path = tmp_path / "scorer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="another taxonomy"):
        LearnedScorer.from_file(path, "f" * 40)


def test_suggest_ranks_other_phrases_by_articles(tmp_path):
    def claim(text, subject="KR", span="3건"):
        return {"indicator": {"id": "other", "text": text}, "subject": {"id": subject}, "year": 2024,
                "unit": "count", "value_span": {"text": span}}

    out = tmp_path / "out.jsonl"
    rows = [{"id": "a", "claims": [claim("특허 출원"), claim("특허 출원 건수")]},
            {"id": "b", "claims": [claim("특허 출원"), {**claim("x"), "indicator": {"id": "exports", "text": "수출"}}]},
            {"id": "c", "claims": [claim("사고 건수")]}]
    out.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{\"id\": \"d\", \"cla", encoding="utf-8")
    found = suggest(out)
    assert found[0].phrase.startswith("특허 출원") and len(found[0].articles) == 2
    assert "수출" not in {s.phrase for s in found}  # only `other` claims are suggestions
