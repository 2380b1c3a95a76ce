from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ner.alignment import align_labels, bio_to_spans
from pipeline.ner.windows import plan_windows, subword_counts


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.integers(0, 12), min_size=1, max_size=120),
       cuts=st.lists(st.integers(1, 119), max_size=10), budget=st.integers(4, 40), context=st.integers(0, 8))
def test_every_word_is_predicted_exactly_once(counts, cuts, budget, context):
    n = len(counts)
    bounds = sorted({0, n, *[c for c in cuts if c < n]})
    sentences = list(zip(bounds, bounds[1:]))
    windows = plan_windows(sentences, counts, budget, context)
    cores = [i for w in windows for i in range(w.core_start, w.core_end)]
    assert cores == list(range(n))  # no word truncated, none predicted twice, order kept
    for w in windows:
        assert w.start <= w.core_start < w.core_end <= w.end
        if w.core_end - w.core_start > 1:
            assert sum(counts[w.start:w.end]) <= budget


def test_sentences_are_packed_not_split():
    windows = plan_windows([(0, 3), (3, 6), (6, 9)], [1] * 9, 6, 2)
    assert [(w.start, w.end) for w in windows] == [(0, 6), (6, 9)]


def test_first_subword_takes_the_label():
    word_ids = [None, 0, 0, 1, 2, 2, 2, None]
    assert align_labels(word_ids, [5, 0, 7]) == [-100, 5, -100, 0, 7, -100, -100, -100]
    assert align_labels(word_ids, [5, 0, 7], core=range(1, 3)) == [-100, -100, -100, 0, 7, -100, -100, -100]


def test_bio_to_spans_is_lenient_on_stray_inside_tags():
    tags = ["B-ORG", "I-ORG", "O", "I-MONEY", "I-MONEY", "B-DATE", "I-ORG"]
    assert bio_to_spans(tags) == [(0, 2, "ORG"), (3, 5, "MONEY"), (5, 6, "DATE"), (6, 7, "ORG")]


def test_subword_alignment_with_a_trained_wordpiece(tmp_path):
    from pipeline.training.data import train_wordpiece

    words = [["한국", "은", "13", "억", "달러", "로", "11", "위"]] * 50 + [["오픈", "AI", "는", "23억"]] * 50
    tokenizer = train_wordpiece(words, 200, tmp_path)
    encoding = tokenizer(["한국", "은", "1391억", "달러"], is_split_into_words=True)
    tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"])
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert "[UNK]" not in tokens[1:3]  # the vocabulary is really used
    word_ids = encoding.word_ids()
    assert word_ids[0] is None and word_ids[-1] is None
    assert sorted({w for w in word_ids if w is not None}) == [0, 1, 2, 3]
    assert subword_counts(tokenizer, ["한국", "은", "1391억", "달러"]) == [word_ids.count(i) for i in range(4)]
    labels = align_labels(word_ids, [1, 0, 2, 3])
    firsts = [i for i, w in enumerate(word_ids) if w is not None and (i == 0 or word_ids[i - 1] != w)]
    assert [labels[i] for i in firsts] == [1, 0, 2, 3]
    assert all(labels[i] == -100 for i in range(len(labels)) if i not in firsts)
