"""The relation step on gold entities: enumerations, ranks, changes, coordination, noise."""
import pytest

from pipeline.io.annotations import AnnotatedRecord
from pipeline.schema import Entity
from pipeline.evaluation.metrics import docs_with_gold_entities, match_claims
from pipeline.linking.linker import LinkerConfig, build_linker


def make_record(text, spans, published="2025-04-08"):
    entities, cursor = [], 0
    for surface, label in spans:
        start = text.index(surface, cursor)
        entities.append(Entity(start=start, end=start + len(surface), label=label, text=surface))
        cursor = start + len(surface)
    return AnnotatedRecord(id="t", text=text, published=published, entities=entities)


# The shipped learned scorer's known failure on AI Index paragraphs (seeds, dev): train holds 3
# ai_private_investment claims, so `other` can outrank it. (The enumeration, bracketed-year and coordination
# cases failed with a86eaa8's scorer, other bias 0.0, and pass again with the cross-validated −1.0.) Strict: a
# retrain that fixes one turns its xfail into a failure to remove.
KNOWN_LEARNED_FAILURE = "learned scorer: AI-Index indicator loses to `other` (models/kfact-linker/README.md)"


def known_learned_failure(request, linker):
    if linker.scorer.name == "learned":
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=KNOWN_LEARNED_FAILURE))


@pytest.fixture(params=["rules", "learned"], scope="module")
def linker(request):
    """The linker as shipped (learned scorer, its threshold chosen on dev) and the rules-only baseline."""
    return build_linker(LinkerConfig() if request.param == "learned" else LinkerConfig(scorer_path=""))


def claims_of(linker, nlp, record):
    doc = docs_with_gold_entities(nlp, [record])[0]
    return [c for c, _ in linker.link(doc)]


def facts(claims):
    return {(c.subject.id, c.indicator.id, c.year, round(c.value, 2), c.unit) for c in claims}


def test_enumeration_carries_indicator_and_year(linker, nlp_blank):
    text = ("지난해 민간 투자에서 미국은 1091억 달러로 압도적인 선두를 지켰고 중국이 93억 달러로 뒤를 이었다. "
            "한국은 13억 달러로 11위에 그쳤다.")
    record = make_record(text, [("지난해", "DATE"), ("미국", "COUNTRY"), ("1091억 달러", "MONEY"), ("중국", "COUNTRY"),
                                ("93억 달러", "MONEY"), ("한국", "COUNTRY"), ("13억 달러", "MONEY"), ("11위", "QUANTITY")])
    got = facts(claims_of(linker, nlp_blank, record))
    assert ("US", "ai_private_investment", 2024, 109100000000, "USD") in got
    assert ("CN", "ai_private_investment", 2024, 9300000000, "USD") in got
    assert ("KR", "ai_private_investment", 2024, 1300000000, "USD") in got
    assert ("KR", "ai_private_investment", 2024, 11, "rank") in got


def test_previous_year_in_brackets_and_pct_change(linker, nlp_blank):
    # The indicator named in the first sentence carries into the second (seed 001's paragraph).
    text = "한국의 AI 민간 부문 투자는 지난해 13억3000만 달러로 전년(13억9000만 달러)보다 줄었다. 미국의 지난해 투자액은 1099억 달러로 전년 대비 63%나 증가했다."
    record = make_record(text, [("한국", "COUNTRY"), ("지난해", "DATE"), ("13억3000만 달러", "MONEY"), ("전년", "DATE"),
                                ("13억9000만 달러", "MONEY"), ("미국", "COUNTRY"), ("지난해", "DATE"), ("1099억 달러", "MONEY"),
                                ("전년", "DATE"), ("63%", "PERCENT")])
    got = facts(claims_of(linker, nlp_blank, record))
    assert ("KR", "ai_private_investment", 2024, 1330000000, "USD") in got
    assert ("KR", "ai_private_investment", 2023, 1390000000, "USD") in got
    assert ("US", "ai_private_investment", 2024, 109900000000, "USD") in got
    assert ("US", "ai_private_investment", 2024, 63, "pct_change") in got


def test_coordinated_subjects_share_a_value(linker, nlp_blank):
    text = "지난해 주목할 만한 AI 모델은 한국과 캐나다, 이스라엘 등은 1개를 기록했다."
    record = make_record(text, [("지난해", "DATE"), ("한국", "COUNTRY"), ("캐나다", "COUNTRY"), ("이스라엘", "COUNTRY"),
                                ("1개", "QUANTITY")])
    subjects = {c.subject.id for c in claims_of(linker, nlp_blank, record)}
    assert subjects == {"KR", "CA", "IL"}


def test_tickers_do_not_become_claims(linker):
    # The production path: kfact_clean marks the ticker block as noise, and the linker never claims noise,
    # whatever its scorer says (a learned claim model alone would take short verbless lines for table rows).
    import pipeline.components  # noqa: F401
    from pipeline.nlp import blank_pipeline

    nlp = blank_pipeline()
    mark_noise = nlp.add_pipe("kfact_clean")
    text = "실시간 암호화폐 시세\n비트코인\n133,384,000\n+1.56%\n이더리움\n4,527,000\n+2.14%"
    record = make_record(text, [("133,384,000", "QUANTITY"), ("+1.56%", "PERCENT"), ("4,527,000", "QUANTITY"),
                                ("+2.14%", "PERCENT")])
    doc = mark_noise(docs_with_gold_entities(blank_pipeline(), [record])[0])
    assert doc._.noise, "the cleaner should mark the ticker block"
    assert [c for c, _ in linker.link(doc)] == []


def test_claim_matching_tolerates_half_a_percent():
    from pipeline.schema import Claim, Indicator, Span, Subject

    def claim(value, subject="US", text="미국"):
        return Claim(subject=Subject(text=text, type="COUNTRY", id=subject), indicator=Indicator(id="revenue", text=""),
                     year=2024, value=value, unit="USD", value_span=Span(start=0, end=1))

    assert len(match_claims([claim(100.0)], [claim(100.4)]).matched) == 1
    assert len(match_claims([claim(100.0)], [claim(101.0)]).matched) == 0
    assert len(match_claims([claim(100.0, "us gov", "미국")], [claim(100.0, "US", "미국")]).matched) == 1
    duplicate = match_claims([claim(100.0)], [claim(100.0), claim(100.0)])
    assert len(duplicate.matched) == 1 and not duplicate.false  # a fact stated twice counts once


def test_linker_refuses_a_pipeline_without_entities(nlp_blank):
    import spacy

    from pipeline.nlp import TOKENIZER_CONFIG

    nlp = spacy.blank("ko", config=TOKENIZER_CONFIG)
    with pytest.raises(ValueError, match="kfact_ner"):
        nlp.add_pipe("kfact_linker", config={"scorer_path": ""})


def test_report_edition_names_the_year_after_the_data(linker, nlp_blank, request):
    known_learned_failure(request, linker)
    # Seed 001: no year in the sentence but the report's edition; "9위에서 11위로" starts in the year before.
    text = ("스탠퍼드대가 발표한 ‘AI 인덱스 보고서 2025’에 따르면 한국의 AI 민간 부문 투자는 13억3000만 달러로 "
            "전년(13억9000만 달러)보다 줄었다. 한국의 투자 순위도 9위에서 11위로 하락했다.")
    record = make_record(text, [("한국", "COUNTRY"), ("13억3000만 달러", "MONEY"), ("전년", "DATE"),
                                ("13억9000만 달러", "MONEY"), ("한국", "COUNTRY"), ("9위", "QUANTITY"),
                                ("11위", "QUANTITY")])
    got = facts(claims_of(linker, nlp_blank, record))
    assert ("KR", "ai_private_investment", 2024, 1330000000, "USD") in got
    assert ("KR", "ai_private_investment", 2023, 1390000000, "USD") in got
    assert ("KR", "ai_private_investment", 2023, 9, "rank") in got
    assert ("KR", "ai_private_investment", 2024, 11, "rank") in got


def test_a_year_in_the_sentence_beats_the_report_edition(linker, nlp_blank):
    text = "AI 인덱스 2025에 따르면 2022년 한국의 AI 민간 투자는 31억 달러였다."
    record = make_record(text, [("2022년", "DATE"), ("한국", "COUNTRY"), ("31억 달러", "MONEY")])
    got = facts(claims_of(linker, nlp_blank, record))
    assert ("KR", "ai_private_investment", 2022, 3100000000, "USD") in got
