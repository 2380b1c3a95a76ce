"""Crawl noise: repeats, tickers, appended blocks and bylines are marked (text untouched), and the
pipeline takes no entity or claim from them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cleaning.noise import NoiseConfig, find_noise, segments
from pipeline.runtime.dedupe import text_hash
from pipeline.schema import overlaps as in_noise

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
BODY = ("미국 스탠퍼드대 인간중심AI연구소가 7일 발표한 보고서에 따르면 한국의 AI 민간 부문 투자는 13억3000만 달러로 "
        "전년보다 줄었다.\n\n미국의 지난해 투자액은 1099억 달러로 전년 대비 63%나 증가했다.\n")
TICKER = "\n".join(["실시간 암호화폐 시세", "  • 종목", "  • 현재가(원)", "  • 변동률",
                    "    • 비트코인", "    • 133,384,000", "    • +1.56%",
                    "    • 이더리움", "    • 4,527,000", "    • +2.14%", "* 24시간 변동률 기준"])


def seed(prefix: str) -> str:
    paths = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not paths:
        pytest.skip(f"seed {prefix} is not in ../shared/seeds")
    return paths[0].read_text(encoding="utf-8")


def covered(noise, text: str, fragment: str, occurrence: int = 0) -> bool:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(fragment, start + 1)
    return in_noise(noise, start, start + len(fragment)) and \
        any(n.start <= start and start + len(fragment) <= n.end for n in noise)


def test_seed_000_second_copy_is_noise_first_is_not():
    text = seed("000")
    noise = find_noise(text)
    lede = "(서울=뉴스1) 나연준 기자"
    assert text.count(lede) == 2
    second = text.index(lede, text.index(lede) + 1)
    assert not in_noise(noise, 0 + text.index(lede), text.index(lede) + len(lede))
    assert covered(noise, text, lede, occurrence=1)
    # Everything of the second copy is noise, down to the truncated "대선에" and the repeated title line.
    assert any(n.start <= second and n.end >= len(text.rstrip()) - 30 for n in noise) or \
        all(in_noise(noise, i, i + 1) for i in range(second, len(text.rstrip())) if not text[i].isspace())
    # The first copy, including its own tail sentence, stays text.
    assert not in_noise(noise, 53, 1259)


def test_seed_001_ticker_and_widgets_are_noise_body_is_not():
    text = seed("001")
    noise = find_noise(text)
    for fragment in ("133,384,000", "+1.56%", "이사 7명 / 사외이사 4명", "주요 뉴스", "현금 여력에도 1450억 CPS"):
        assert covered(noise, text, fragment), fragment
    for fragment in ("13억3000만 달러", "1099억 달러", "1917억 위안", "-0.36", "3~4조 원"):
        assert not in_noise(noise, text.index(fragment), text.index(fragment) + len(fragment)), fragment


def test_ticker_table_without_heading_and_byline_and_copyright():
    ticker_only = TICKER.split("\n", 1)[1]  # no heading line: the numeric-run rule must catch it
    text = BODY + "\n" + ticker_only + "\n\n홍길동 기자 gildong@example.co.kr\nⓒ 예시뉴스, 무단전재 및 재배포 금지\n"
    noise = find_noise(text)
    assert any(n.reason == "ticker table" for n in noise)
    for fragment in ("4,527,000", "+2.14%", "gildong@example.co.kr", "무단전재"):
        assert covered(noise, text, fragment), fragment
    assert not in_noise(noise, 0, len(BODY))


def test_near_duplicate_paragraph_and_threshold_is_configurable():
    paragraph = ("과학기술정보통신부는 올해 인공지능 분야에 1조8000억 원을 투입해 데이터센터 구축과 연구개발, "
                 "그리고 석박사급 인재 양성을 함께 지원하겠다고 밝혔다.")
    edited = paragraph.replace("함께", "모두")
    text = f"{paragraph}\n\n중간 문단은 다른 이야기를 전한다. 국내 기업들은 투자 계획을 아직 내놓지 않았다.\n\n{edited}\n"
    noise = find_noise(text)
    assert covered(noise, text, edited) and not in_noise(noise, 0, len(paragraph))
    assert not find_noise(text, NoiseConfig(near_duplicate=1.0))


def test_clean_articles_have_no_noise_and_text_hash_ignores_spacing():
    samples = [json.loads(line)["text"] for line in (ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl")
               .read_text(encoding="utf-8").splitlines() if line.strip()]
    assert samples and all(find_noise(text) == [] for text in samples)
    assert segments("있다.12일 발표. 3.5%였다") == [(0, 3), (3, 10), (11, 17)]
    assert text_hash("한국은  13억 달러\n로") == text_hash(" 한국은 13억 달러 로 ") != text_hash("한국은 13억 달러")


@pytest.fixture(scope="module")
def seeds_nlp(shipped_model):
    from pipeline.nlp import load_pipeline

    return load_pipeline(shipped_model)


def _run(nlp, text: str, disable: tuple[str, ...] = ()):
    from pipeline.nlp import pipe_articles
    from pipeline.schema import Article

    with nlp.select_pipes(disable=list(disable)):
        return pipe_articles(nlp, [Article.model_construct(id="a", text=text, published=None)])[0]


@pytest.mark.slow
def test_pipeline_takes_nothing_from_noise(seeds_nlp):
    runs = {}
    for prefix in ("000", "001"):
        text = seed(prefix)
        doc = _run(seeds_nlp, text)
        raw = _run(seeds_nlp, text, disable=("kfact_clean", "kfact_clean_ents"))
        runs[prefix] = doc, raw
        noise = doc._.noise
        assert noise and doc.text == text  # marked, not cut
        assert not [e.text for e in doc.ents if in_noise(noise, e.start_char, e.end_char)]
        assert not [c.value_span.text for c in doc._.claims if in_noise(noise, c.value_span.start, c.value_span.end)]
        for claim in doc._.claims:
            assert text[claim.value_span.start:claim.value_span.end] == claim.value_span.text
        # The uncleaned run did find entities there (so the check above means something), and the cleaned
        # run keeps the body: every entity outside noise is still found.
        assert sum(in_noise(noise, e.start_char, e.end_char) for e in raw.ents) >= 10
        body = lambda d: {(e.start_char, e.end_char, e.label_) for e in d.ents  # noqa: E731
                          if not in_noise(noise, e.start_char, e.end_char)}
        assert len(body(doc) ^ body(raw)) <= 0.1 * len(body(raw))
    text = seed("000")
    doc, raw = runs["000"]
    raw_claims = raw._.claims
    second = text.index("(서울=뉴스1) 나연준 기자", text.index("(서울=뉴스1) 나연준 기자") + 1)
    assert doc.ents and max(e.start_char for e in doc.ents) < second
    # The glued headline ("...1개 그쳐대" + "선 후보") is noise too, so 1개 is claimed from the title and the body only.
    assert covered(doc._.noise, text, "한국 지난해 주목할 AI 모델 개발 1개 그쳐대", occurrence=1)
    values = [(c.subject.id, c.indicator.id, c.value_span.start) for c in doc._.claims]
    assert len(doc._.claims) <= len(raw_claims) and len(values) == len(set(values))
    ticker = _run(seeds_nlp, BODY + "\n" + TICKER)
    start = len(BODY)
    assert not [e.text for e in ticker.ents if e.end_char > start]
    assert not [c for c in ticker._.claims if c.value_span.end > start]


def test_near_duplicate_articles_minhash():
    from pipeline.runtime.dedupe import NearDuplicateIndex

    text = seed("002")
    index = NearDuplicateIndex(threshold=0.9)
    index.add("first", index.signature(text))
    index.add("other", index.signature(seed("001")))
    recrawl = text.replace("이정현조현영 기자기자 : lisa@yna.co.kr", "[연합뉴스 제공]")
    match = index.find(index.signature(recrawl))
    assert match is not None and match[0] == "first" and match[1] >= 0.9
    assert index.find(index.signature(text[: len(text) // 2])) is None  # half an article is another text
    assert index.find(index.signature(seed("000"))) is None
