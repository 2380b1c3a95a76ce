import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.components.tokenizer import KiwiTokenizer, _segments

KOREAN_MIX = st.text(alphabet=st.sampled_from(list("한국은 13억3000만 달러로 11위에 그쳤다.\n\t  漢字GPT-4😀１２３ㄱㅏ\u1112\u1161\u11ab,()%")),
                     max_size=80)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60) | KOREAN_MIX)
def test_tokenizer_is_lossless_on_any_string(nlp_blank, text):
    doc = nlp_blank.make_doc(text)
    assert doc.text == text
    covered = "".join(t.text_with_ws for t in doc)
    assert covered == text


def test_overlapping_morphemes_merge_into_one_token(nlp_blank):
    doc = nlp_blank.make_doc("한국은 1개에 그쳤다.")
    texts = [t.text for t in doc]
    assert "그쳤" in texts  # 그치/VV + 었/EP share a character
    merged = doc[texts.index("그쳤")]
    assert merged.tag_ == "VV+EP"
    assert merged._.kiwi_forms == "그치+었"


def test_tags_and_sentence_starts(nlp_blank):
    doc = nlp_blank.make_doc("미국은 1위다. 한국은 11위다.")
    assert doc[0].tag_ == "NNP"
    assert sum(1 for t in doc if t.is_sent_start) == 2


def test_whitespace_runs_and_empty(nlp_blank):
    for text in ["", " ", "\n\n", "  가  나\n\n다 ", "a\u3000b"]:
        assert nlp_blank.make_doc(text).text == text


def test_long_text_is_segmented_without_loss(nlp_blank):
    text = ("가나다라 " * 3000) + ("x" * 9000)
    assert [b - a for a, b in _segments(text, 4000)][0] <= 4000
    assert nlp_blank.make_doc(text).text == text


def test_tokenizer_pickles(nlp_blank):
    clone = pickle.loads(pickle.dumps(nlp_blank.tokenizer))
    assert isinstance(clone, KiwiTokenizer)
    assert clone("한국 13억").text == "한국 13억"


def test_a_line_break_always_ends_a_sentence(nlp_blank):
    # Kiwi's splitter alone ran this press release's paragraphs into one 835-char sentence.
    lines = ["1. 지가변동률", "", "국토교통부는 ‘21년 4분기 전국 지가는 1.03% 상승하여 3분기(1.07%) 대비 0.04%p 감소했다고 밝혔다.",
             "", "(시도별, %) ‘21년 4분기 지가변동률은 전분기 대비 수도권(1.23% → 1.17%) 모두 소폭 축소되었다.",
             "(수도권, 1.17%) 서울 1.28%, 경기 1.06%로 변동되어 높은 수준으로 나타났다."]
    text = "\n".join(lines)
    doc = nlp_blank.make_doc(text)
    assert doc.text == text
    starts = {s.text.strip()[:8] for s in doc.sents if s.text.strip()}
    assert starts == {line[:8] for line in lines if line}
    assert all("\n" not in s.text.strip() for s in doc.sents)


def test_a_hard_wrapped_line_does_not_end_a_sentence(nlp_blank):
    # PDF-extracted releases wrap mid-phrase; the value "750만\n건" must stay in one sentence.
    text = "□ 동\n사업은 3년간 총 65개 기업이 참여하여, ’17년 4종 750만\n건을 구축하였다.\n\nㅇ 이를 통해 개발자가 활용하였다."
    doc = nlp_blank.make_doc(text)
    sentences = [s.text.strip() for s in doc.sents if s.text.strip()]
    assert any("750만\n건" in s for s in sentences)
    assert sentences[-1].startswith("ㅇ 이를")
