"""The ONNX Runtime backend of kfact_ner predicts what the torch backend predicts."""
import json

import numpy as np
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
SAMPLE = ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl"


def _sample_texts(limit: int = 6) -> list[str]:
    with open(SAMPLE, encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle][:limit]


def _ents(nlp, texts):
    ner = nlp.get_pipe("kfact_ner")
    docs = [nlp.make_doc(t) for t in texts]
    for name in nlp.pipe_names[:nlp.pipe_names.index("kfact_ner")]:
        docs = [nlp.get_pipe(name)(d) for d in docs]
    return [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in ner.pipe(docs)]


@pytest.fixture(scope="module")
def pipelines(shipped_model, onnx_model_dir):
    from pipeline.nlp import load_pipeline

    def onnx(name):
        return load_pipeline(shipped_model, with_linker=False, config_overrides={
            "components.kfact_ner.backend": "onnx", "components.kfact_ner.onnx_path": str(onnx_model_dir / name)})

    return {"torch": load_pipeline(shipped_model, with_linker=False), "onnx": onnx("model.onnx"),
            "int8": onnx("model.int8.onnx")}


def test_export_writes_both_graphs_beside_config_and_tokenizer(onnx_model_dir):
    for name in ("model.onnx", "model.int8.onnx", "config.json", "tokenizer.json"):
        assert (onnx_model_dir / name).is_file(), name
    assert not list(onnx_model_dir.glob("*.safetensors"))  # the ONNX directory does not need the weights
    # int8 weights: about a quarter of the fp32 graph
    assert (onnx_model_dir / "model.int8.onnx").stat().st_size < 0.4 * (onnx_model_dir / "model.onnx").stat().st_size


def test_onnx_logits_argmax_agree_with_torch_on_real_windows(pipelines):
    torch_ner, onnx_ner = pipelines["torch"].get_pipe("kfact_ner"), pipelines["onnx"].get_pipe("kfact_ner")
    assert onnx_ner.backend.name == "onnx" and not hasattr(onnx_ner.backend, "model")  # no torch weights loaded
    words = [t.text for t in pipelines["torch"].make_doc(" ".join(_sample_texts(2))) if not t.is_space]
    batch = [words[i:i + n] for i, n in ((0, 90), (90, 7), (97, 60))]  # ragged: padding is exercised
    encoding = torch_ner.tokenizer(batch, is_split_into_words=True, padding=True, truncation=True,
                                   max_length=torch_ner.max_subwords + 2, return_tensors="np")
    ids, mask = encoding["input_ids"].astype(np.int64), encoding["attention_mask"].astype(np.int64)
    expected, got = torch_ner.forward(ids, mask), onnx_ner.forward(ids, mask)
    keep = mask.astype(bool)
    assert expected.shape == got.shape
    assert np.abs(expected - got)[keep].max() < 1e-3
    assert (expected.argmax(-1) == got.argmax(-1))[keep].all()


def test_entities_same_under_torch_and_onnx_and_with_unsorted_windows(pipelines):
    texts = _sample_texts()
    torch_ents = _ents(pipelines["torch"], texts)
    assert sum(map(len, torch_ents)) > 20
    assert _ents(pipelines["onnx"], texts) == torch_ents
    ner = pipelines["torch"].get_pipe("kfact_ner")
    ner.sort_windows = False  # the old order: windows batched as planned
    try:
        assert _ents(pipelines["torch"], texts) == torch_ents
    finally:
        ner.sort_windows = True
    int8 = _ents(pipelines["int8"], texts)
    same = sum(len(set(a) & set(b)) for a, b in zip(int8, torch_ents))
    assert same >= 0.95 * sum(map(len, torch_ents))  # int8 may move a few entities; F1 on dev is in the README


def test_missing_graph_names_the_export_command(shipped_model, tmp_path):
    from pipeline.nlp import load_pipeline

    with pytest.raises(FileNotFoundError, match="export-onnx"):
        load_pipeline(shipped_model, with_linker=False, config_overrides={
            "components.kfact_ner.backend": "onnx", "components.kfact_ner.onnx_path": str(tmp_path / "none.onnx")})


def test_extract_cli_with_onnx_backend_matches_torch(pipelines, onnx_model_dir, tmp_path):
    from tests.conftest import run_kfact

    sample = tmp_path / "in.jsonl"
    sample.write_text("".join(json.dumps({"id": f"a{i}", "text": t}, ensure_ascii=False) + "\n"
                              for i, t in enumerate(_sample_texts(3))), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run_kfact("extract", str(sample), "-o", str(out), "--model", str(onnx_model_dir), "--backend", "onnx",
                       "--no-claims")
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 3
    torch_nlp = pipelines["torch"]
    for record, text in zip(records, _sample_texts(3)):
        expected = [(e.start_char, e.end_char, e.label_) for e in torch_nlp(text).ents]
        assert [(e["start"], e["end"], e["label"]) for e in record["entities"]] == expected

    missing = run_kfact("extract", str(sample), "-o", str(tmp_path / "x.jsonl"), "--model", str(onnx_model_dir),
                        "--backend", "onnx", "--onnx-path", str(tmp_path / "absent.onnx"))
    assert missing.returncode != 0 and "export-onnx" in missing.stderr


def test_a_graph_from_other_weights_is_refused(onnx_model_dir, shipped_model, tmp_path):
    import shutil

    from pipeline.ner.backends import OnnxBackend

    copy = tmp_path / "model"
    shutil.copytree(onnx_model_dir, copy)
    OnnxBackend.load(copy)  # a graph directory without weights: nothing to compare
    shutil.copy(shipped_model / "model.safetensors", copy / "model.safetensors")
    OnnxBackend.load(copy)  # the weights it was exported from: the stamp matches
    stamp = copy / "model.onnx.source.json"
    stamp.write_text(json.dumps({"weights_sha256": "0" * 64}), encoding="utf-8")
    with pytest.raises(RuntimeError, match="exported from other weights"):
        OnnxBackend.load(copy)
    stamp.unlink()
    with pytest.raises(RuntimeError, match="re-export it"):
        OnnxBackend.load(copy)
