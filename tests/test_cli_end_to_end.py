"""Through the real CLI: the shipped model on the seeds and the sample; training with a tiny model."""
import json

import pytest

from tests.conftest import ROOT, SHARED, run_kfact

SEEDS = {"000_b22d0019d0e02977.txt": "2025-04-12", "001_beb254a2c79b135b.txt": "2025-04-08",
         "002_59da5a199eed97f7.txt": "2025-02-20"}


@pytest.fixture(scope="module")
def seeds_output(tmp_path_factory, shipped_model):
    if not (SHARED / "seeds").is_dir():
        pytest.skip("../shared/seeds is not beside the repo")
    tmp = tmp_path_factory.mktemp("seeds")
    inp = tmp / "seeds.jsonl"
    with open(inp, "w", encoding="utf-8") as handle:
        for name, published in SEEDS.items():
            text = (SHARED / "seeds" / name).read_text(encoding="utf-8")
            handle.write(json.dumps({"id": name[:3], "text": text, "published": published}, ensure_ascii=False) + "\n")
    out = tmp / "out.jsonl"
    result = run_kfact("extract", str(inp), "-o", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    texts = {json.loads(line)["id"]: json.loads(line)["text"] for line in inp.read_text(encoding="utf-8").splitlines()}
    return texts, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_offsets_index_the_input_text(seeds_output):
    texts, records = seeds_output
    assert [r["id"] for r in records] == ["000", "001", "002"]
    for record in records:
        assert record["entities"], "the shipped model finds entities in every seed"
        for ent in record["entities"]:
            assert texts[record["id"]][ent["start"]:ent["end"]] == ent["text"]


@pytest.mark.slow
@pytest.mark.model_regression
def test_seed_us_private_investment_both_reports(seeds_output):
    _, records = seeds_output
    found = {(r["id"], c["subject"]["id"], c["year"], c["unit"], round(c["value"] / 1e8))
             for r in records for c in r["claims"] if c["indicator"]["id"] == "ai_private_investment"}
    assert ("000", "US", 2024, "USD", 1091) in found
    assert ("001", "US", 2024, "USD", 1099) in found


@pytest.mark.slow
def test_tickers_in_seed_001_make_no_claims(seeds_output):
    texts, records = seeds_output
    tail_start = texts["001"].index("실시간 암호화폐 시세")
    assert all(c["value_span"]["start"] < tail_start for c in records[1]["claims"])


@pytest.mark.slow
def test_sample_runs_and_summarizes(tmp_path, shipped_model):
    out = tmp_path / "sample.jsonl"
    result = run_kfact("extract", str(ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl"), "-o", str(out),
                       "--workers", "2", "--batch-size", "4")
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(out.read_text(encoding="utf-8").splitlines()) == 12
    summary = run_kfact("summarize", str(out))
    assert summary.returncode == 0 and "12 records" in summary.stderr


def test_train_command_writes_a_model_and_refuses_to_overwrite(tmp_path):
    if not (SHARED / "data" / "external" / "kmou-ner").is_dir():
        pytest.skip("../shared/data/external/kmou-ner is not beside the repo")
    config = tmp_path / "tiny.toml"
    text = (ROOT / "configs" / "ner_tiny.toml").read_text(encoding="utf-8")
    text = text.replace('kmou_dir = "../shared/data/external/kmou-ner/corpus"',
                        f'kmou_dir = "{SHARED / "data" / "external" / "kmou-ner" / "corpus"}"')
    text = text.replace("kmou_max_sentences = 400", "kmou_max_sentences = 150")
    config.write_text(text, encoding="utf-8")
    out = tmp_path / "model"
    args = ("train", "--config", str(config), "--output", str(out),
            "--annotations", str(ROOT / "annotations" / "seeds.jsonl"), "--no-guard")
    first = run_kfact(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    for name in ("config.json", "model.safetensors", "tokenizer.json", "training.json", "README.md", "metrics.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"dev", "test"} and "per_label" in metrics["test"]["all"]
    second = run_kfact(*args)
    assert second.returncode != 0 and "already holds a model" in second.stderr


@pytest.mark.slow
def test_show_prints_one_article_and_writes_a_displacy_page(tmp_path, shipped_model):
    inp = tmp_path / "two.jsonl"
    rows = [{"id": "a", "text": "날씨가 맑았다.", "published": "2025-04-08"},
            {"id": "b", "text": "한국의 AI 민간 투자는 지난해 13억3000만 달러였다.", "published": "2025-04-08"}]
    inp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    ambiguous = run_kfact("show", str(inp), "--model", str(shipped_model))
    assert ambiguous.returncode != 0 and "--id" in ambiguous.stdout + ambiguous.stderr
    page = tmp_path / "b.html"
    result = run_kfact("show", str(inp), "--id", "b", "--model", str(shipped_model), "--html", str(page))
    assert result.returncode == 0, result.stderr
    assert "13억3000만" in result.stdout and "claims" in result.stdout
    html = page.read_text(encoding="utf-8")
    assert "13억3000만 달러" in html and "MONEY" in html  # displaCy marks the entity with its label
    missing = run_kfact("show", str(inp), "--id", "zzz", "--model", str(shipped_model))
    assert missing.returncode != 0
