"""The retrain loop end to end through the CLI with a tiny model:
extract -> annotate (Label Studio) -> correct one span -> import -> train -> regression guard -> compare.
"""
import json

import pytest

from tests.conftest import ROOT, SHARED, run_kfact

ARTICLES = [
    {"id": "loop-1", "published": "2025-04-08",
     "text": "한국의 AI 민간 부문 투자는 13억3000만 달러로 전년보다 줄었다. 미국은 1091억 달러로 1위를 지켰다."},
    {"id": "loop-2", "published": "2025-02-20", "text": "중국의 AI 민간 투자는 93억 달러로 2위였다. 영국은 45억 달러였다."},
    {"id": "loop-3", "published": "2024-11-02", "text": "삼성전자는 올해 반도체 매출이 작년보다 63% 늘었다고 밝혔다."},
]
CORRECTED = ("미국", "COUNTRY")  # the annotator's fix in loop-1: this span, this label


def _tiny_config(tmp_path):
    text = (ROOT / "configs" / "ner_tiny.toml").read_text(encoding="utf-8")
    text = text.replace('kmou_dir = "../shared/data/external/kmou-ner/corpus"',
                        f'kmou_dir = "{SHARED / "data" / "external" / "kmou-ner" / "corpus"}"')
    text = text.replace("kmou_max_sentences = 400", "kmou_max_sentences = 150")
    config = tmp_path / "tiny.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _correct(tasks: list) -> tuple[int, int]:
    """Simulated review: accept the predictions, then mark 미국 as COUNTRY in loop-1, dropping any predicted
    span that overlaps it (and relations touching those)."""
    for task in tasks:
        task["annotations"] = [{"id": 1, "was_cancelled": False, "result": json.loads(json.dumps(task["predictions"][0]["result"]))}]
    task = next(t for t in tasks if t["data"]["kfact"]["id"] == "loop-1")
    start = task["data"]["text"].index(CORRECTED[0])
    end = start + len(CORRECTED[0])
    result = task["annotations"][0]["result"]
    dropped = {r["id"] for r in result if r["type"] == "labels" and r["value"]["start"] < end and start < r["value"]["end"]}
    result[:] = [r for r in result if r.get("id") not in dropped
                 and r.get("from_id") not in dropped and r.get("to_id") not in dropped]
    result.append({"id": "fix-1", "from_name": "label", "to_name": "text", "type": "labels",
                   "value": {"start": start, "end": end, "text": CORRECTED[0], "labels": [CORRECTED[1]]}})
    return start, end


def test_train_refuses_overlapping_spans_naming_the_record(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "loop-bad-7", "text": "미국은 1위", "split": "train", "entities": [
        {"start": 0, "end": 2, "label": "COUNTRY"}, {"start": 1, "end": 3, "label": "ORG"}]}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    run = run_kfact("train", "--config", str(ROOT / "configs" / "ner_tiny.toml"), "--output", str(tmp_path / "m"),
                    "--annotations", str(bad))
    log = " ".join(run.stderr.split())
    assert run.returncode != 0 and "loop-bad-7" in log and "overlaps" in log
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_loop_extract_annotate_correct_import_train_compare(tmp_path, tiny_model):
    articles = tmp_path / "articles.jsonl"
    articles.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8")

    extracted = tmp_path / "extracted.jsonl"
    run = run_kfact("extract", str(articles), "-o", str(extracted), "--model", str(tiny_model))
    assert run.returncode == 0, run.stderr[-3000:]
    assert [json.loads(line)["id"] for line in extracted.read_text(encoding="utf-8").splitlines()] == ["loop-1", "loop-2", "loop-3"]

    tasks_path = tmp_path / "tasks.json"
    run = run_kfact("annotate", str(articles), "-o", str(tasks_path), "--format", "label-studio", "--model", str(tiny_model))
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "tasks.label_config.xml").is_file()
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    assert [t["data"]["kfact"]["id"] for t in tasks] == ["loop-1", "loop-2", "loop-3"]

    start, end = _correct(tasks)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    imported = tmp_path / "mine.jsonl"
    run = run_kfact("import", str(export), "-o", str(imported), "--format", "label-studio", "--split", "train")
    assert run.returncode == 0, run.stderr[-3000:]
    records = {r["id"]: r for r in map(json.loads, imported.read_text(encoding="utf-8").splitlines())}
    assert set(records) == {"loop-1", "loop-2", "loop-3"}
    spans = [(e["start"], e["end"], e["label"]) for e in records["loop-1"]["entities"]]
    assert (start, end, CORRECTED[1]) in spans
    assert not [s for s in spans if s[0] < end and start < s[1] and s != (start, end, CORRECTED[1])]
    for task in tasks[1:]:  # the untouched tasks come back with the model's spans
        predicted = [(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
                     for r in task["predictions"][0]["result"] if r["type"] == "labels"]
        got = [(e["start"], e["end"], e["label"]) for e in records[task["data"]["kfact"]["id"]]["entities"]]
        assert got == sorted(predicted)

    new_model = tmp_path / "tiny-2"
    run = run_kfact("train", "--config", str(_tiny_config(tmp_path)), "--output", str(new_model),
                    "--annotations", str(imported), "--baseline", str(tiny_model),
                    "--guard-gold", str(ROOT / "annotations" / "*.jsonl"))
    assert run.returncode == 0, run.stderr[-3000:]
    log = run.stderr
    assert "annotations: 3 records" in log
    assert "regression guard" in log and "per-label F1" in log
    for name in ("README.md", "metrics.json", "training.json", "regression.json"):
        assert (new_model / name).is_file(), name
    guard = json.loads((new_model / "regression.json").read_text(encoding="utf-8"))
    assert guard["models"] == [str(tiny_model), str(new_model)]
    assert {row["label"] for row in guard["entities"]} >= {"micro", "macro"}

    report = tmp_path / "report"
    # The guard already scored the test split; compare on the three corrected records keeps this step short.
    run = run_kfact("compare", str(tiny_model), str(new_model), "--gold", str(imported), "--split", "all",
                    "--report", str(report))
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Δ tiny-2" in run.stderr
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert len(metrics["models"]) == 2 and metrics["comparison"]["baseline"] == str(tiny_model)
    page = (report / "index.html").read_text(encoding="utf-8")
    assert "Model comparison" in page and 'class="bars compare"' in page
