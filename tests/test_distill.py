"""Distillation text: which documents the teacher labels, what it writes, and that a killed run resumes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.io.corpora.unlabeled import CorpusSpec, corpus_documents, markdown_body
from pipeline.training.data import collect_records
from pipeline.training.distill import (DistillArguments, DistillStats, chunk_paragraphs, distill_texts,
                                       label_corpora, load_teacher_records)

ANNOTATED = "한국의 인공지능 민간 투자는 지난해 13억 달러로 집계됐다."
PRESS = """---
title: "통계"
---

# 통계

- 부처: 통계청

## 본문

 2022년 고용률은 62.1%로 전년보다 1.3%포인트 올랐다.

취업자는 2808만 명으로 81만 6000명 늘었다.
"""


def _corpora(tmp_path: Path, annotated_in_lines: bool = True) -> Path:
    lines = tmp_path / "news.txt"
    lines.write_text("\n".join([
        "삼성전자는 올해 반도체 투자에 50조 원을 쓴다.",
        ANNOTATED if annotated_in_lines else "미국은 670억 달러로 1위였다.",
        "",
        "중국은 93억 달러로 2위였다.",
    ]) + "\n", encoding="utf-8")
    press = tmp_path / "press" / "2022" / "2022-01"
    press.mkdir(parents=True, exist_ok=True)
    (press / "001_통계청_고용.md").write_text(PRESS, encoding="utf-8")
    (tmp_path / "press" / "2025").mkdir(exist_ok=True)
    (tmp_path / "press" / "2025" / "999_blind.md").write_text(PRESS.replace("2022년", "2025년"), encoding="utf-8")
    config = tmp_path / "corpora.toml"
    config.write_text(f'''
[[corpus]]
name = "news"
path = "{lines}"
format = "lines"
distill = true

[[corpus]]
name = "press"
path = "{tmp_path / 'press'}"
format = "md_dir"
glob = "202[0-3]/*/*.md"
distill = true

[[corpus]]
name = "kept_out"
path = "{lines}"
format = "lines"
''', encoding="utf-8")
    annotations = tmp_path / "gold.jsonl"
    annotations.write_text(json.dumps({"id": "g1", "text": "머리말.\n" + ANNOTATED, "split": "test"},
                                      ensure_ascii=False) + "\n", encoding="utf-8")
    return config


def _args(tmp_path: Path, **overrides) -> DistillArguments:
    values = dict(corpora=str(_corpora(tmp_path)), output=str(tmp_path / "out" / "teacher.jsonl"),
                  exclude_annotations=[str(tmp_path / "gold.jsonl")], batch_size=2)
    values.update(overrides)
    return DistillArguments(**values)


def test_markdown_body_is_the_prose_under_the_body_heading():
    assert markdown_body(PRESS).strip().startswith("2022년 고용률은")
    assert "부처" not in markdown_body(PRESS)
    assert markdown_body("# no body heading\ntext") == ""


def test_md_dir_reads_only_the_files_its_glob_names(tmp_path):
    _corpora(tmp_path)
    docs = list(corpus_documents(CorpusSpec("press", tmp_path / "press", "md_dir", "202[0-3]/*/*.md")))
    assert [doc_id for doc_id, _ in docs] == ["2022/2022-01/001_통계청_고용.md"]
    assert docs[0][1] == ["2022년 고용률은 62.1%로 전년보다 1.3%포인트 올랐다.", "취업자는 2808만 명으로 81만 6000명 늘었다."]


def test_chunks_keep_paragraphs_whole_and_under_the_limit():
    paragraphs = ["가" * 40, "나" * 40, "다" * 40, "라" * 200]
    chunks = chunk_paragraphs(paragraphs, 100)
    assert chunks == ["가" * 40 + "\n" + "나" * 40, "다" * 40, "라" * 200]
    assert "\n".join(chunks) == "\n".join(paragraphs)


def test_selection_leaves_out_annotated_text_corpora_not_marked_and_the_glob_outside(tmp_path):
    stats = DistillStats()
    picked = list(distill_texts(_args(tmp_path), stats))
    texts = [text for _, _, text in picked]
    assert ANNOTATED not in " ".join(texts)
    assert stats.excluded_annotated == 1
    assert {corpus for _, corpus, _ in picked} == {"news", "press"}  # kept_out has no distill = true
    assert not any("2025년" in text for text in texts)
    assert len({record_id for record_id, _, _ in picked}) == len(picked)


def test_budget_sample_and_number_filter(tmp_path):
    stats = DistillStats()
    picked = list(distill_texts(_args(tmp_path, max_chars={"news": 10}, min_digits_per_kchar={"press": 1000}), stats))
    assert [corpus for _, corpus, _ in picked] == ["news"]  # one record reaches the budget; press is too sparse
    assert stats.excluded_sparse == 1
    stats = DistillStats()
    assert [c for _, c, _ in distill_texts(_args(tmp_path, sample_percent={"news": 0.0}), stats)] == ["press"]
    assert stats.excluded_sample == 3


@pytest.mark.slow
def test_teacher_records_resume_after_a_kill_and_feed_the_student(tmp_path, tiny_model):
    from pipeline.api import load

    nlp = load(tiny_model, claims=False)
    args = _args(tmp_path, teacher=str(tiny_model))
    label_corpora(args, log=lambda message: None, nlp=nlp)
    output = Path(args.output)
    complete = output.read_text(encoding="utf-8")
    records = [json.loads(line) for line in complete.splitlines()]
    assert len(records) == 3 and all(r["split"] == "train" for r in records)
    for record in records:
        for entity in record["entities"]:
            assert 0 <= entity["start"] < entity["end"] <= len(record["text"])

    # A run killed while writing its second record: the torn line is cut off, the rest is labelled once.
    lines = complete.splitlines(keepends=True)
    output.write_text(lines[0] + lines[1][: len(lines[1]) // 2], encoding="utf-8")
    label_corpora(args, log=lambda message: None, nlp=nlp)
    assert output.read_text(encoding="utf-8") == complete

    with pytest.raises(ValueError, match="other settings"):
        label_corpora(_args(tmp_path, teacher=str(tiny_model), max_record_chars=10), log=lambda m: None, nlp=nlp)

    from pipeline.training.entity_model import TrainConfig

    cfg = TrainConfig.from_toml(Path(__file__).resolve().parent.parent / "configs" / "ner_tiny.toml")
    cfg.data.kmou_dir, cfg.data.annotations, cfg.distill = "", [], args
    splits = collect_records(cfg, log=lambda message: None)
    assert [r["id"] for r in splits["train"]] == [r["id"] for r in load_teacher_records(args)]
