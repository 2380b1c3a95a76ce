"""Label Studio and doccano round trips, and the import's refusals (naming task index and record id)."""
import copy
import json

import pytest

from pipeline.io.annotations import AnnotationError
from pipeline.io.label_studio import label_config_path
from pipeline.io.tasks import AnnotateStats, import_export, record_to_task, write_tasks
from pipeline.runtime.batch import doc_to_record
from pipeline.schema import Article, Claim
from tests.conftest import run_kfact

TEXT = "한국의 AI 민간 부문 투자는 13억3000만 달러로 11위였다. 미국은 1091억 달러로 1위를 지켰다."


def _at(surface: str, label: str, nth: int = 0) -> tuple[int, int, str]:
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(surface, start + 1)
    return start, start + len(surface), label


ENTS = [_at("한국", "COUNTRY"), _at("13억3000만 달러", "MONEY"), _at("11위", "QUANTITY"), _at("미국", "COUNTRY"),
        _at("1091억 달러", "MONEY"), _at("1위", "QUANTITY", 1)]


def _claim(subject, sid, span, value, unit, year=2024):
    return Claim.model_validate({
        "subject": {"text": subject, "type": "COUNTRY", "id": sid},
        "indicator": {"id": "ai_private_investment", "text": "AI 민간 부문 투자"}, "year": year, "value": value,
        "unit": unit, "value_span": {"start": span[0], "end": span[1], "text": TEXT[span[0]:span[1]]},
        "confidence": 0.9})


@pytest.fixture(scope="module")
def predicted_doc(nlp_blank):
    """A Doc as the pipeline leaves it: entities and claims (one has a subject that is not a span: 국내)."""
    doc = nlp_blank.make_doc(TEXT)
    doc.ents = [doc.char_span(a, b, label=label) for a, b, label in ENTS]
    doc._.claims = [_claim("한국", "KR", ENTS[1], 1.33e9, "USD"), _claim("한국", "KR", ENTS[2], 11, "rank"),
                    _claim("미국", "US", ENTS[4], 1.091e11, "USD"), _claim("국내", "KR", ENTS[5], 1, "rank")]
    doc._.article = ARTICLE
    return doc


ARTICLE = Article(id="rt-1", text=TEXT, published="2025-04-08")


def _export(doc, fmt, tmp_path, name="tasks.json"):
    stats = AnnotateStats()
    task = record_to_task(doc_to_record(doc), doc.text, fmt, "test-model", stats)
    path = tmp_path / name
    write_tasks([task], path, fmt)
    return path, stats


def _as_submitted(tasks: list) -> list:
    """What Label Studio exports after an annotator submits the pre-annotation without edits."""
    out = copy.deepcopy(tasks)
    for i, task in enumerate(out):
        task["id"] = 100 + i
        task["annotations"] = [{"id": 1, "was_cancelled": False, "result": copy.deepcopy(task["predictions"][0]["result"]),
                                "updated_at": "2026-11-23T10:00:00Z"}]
    return out


def _spans(record):
    return [(e.start, e.end, e.label) for e in record.entities]


def _claims(record):
    return sorted((c.subject.id, c.indicator.id, c.year, c.value, c.unit, c.value_span.start) for c in record.claims)


def test_label_studio_round_trip_keeps_spans_and_claims(predicted_doc, tmp_path):
    path, stats = _export(predicted_doc, "label-studio", tmp_path)
    assert stats.relations == 3 and stats.claims_without_subject_span == 1
    config = label_config_path(path).read_text(encoding="utf-8")
    assert '<Label value="MONEY"' in config and '<Relation value="ai_private_investment"/>' in config
    tasks = json.loads(path.read_text(encoding="utf-8"))
    result = tasks[0]["predictions"][0]["result"]
    relation = next(r for r in result if r["type"] == "relation")
    assert relation["labels"] == ["ai_private_investment"] and relation["direction"] == "right"
    region = next(r for r in result if r["id"] == relation["from_id"])
    assert region["value"]["labels"][0] in ("MONEY", "QUANTITY") and region["from_name"] == "label"

    export = tmp_path / "export.json"
    export.write_text(json.dumps(_as_submitted(tasks), ensure_ascii=False), encoding="utf-8")
    imported = import_export(export, "label-studio")
    assert not imported.rejected
    record = imported.records[0]
    assert record.id == "rt-1" and str(record.published) == "2025-04-08" and record.split == "train"
    assert _spans(record) == ENTS
    assert _claims(record) == sorted([("KR", "ai_private_investment", 2024, 1.33e9, "USD", ENTS[1][0]),
                                      ("KR", "ai_private_investment", 2024, 11, "rank", ENTS[2][0]),
                                      ("US", "ai_private_investment", 2024, 1.091e11, "USD", ENTS[4][0])])
    # Tasks never reviewed: rejected unless the predictions are asked for explicitly, then the same spans.
    assert "no annotations" in import_export(path, "label-studio").rejected[0]["reason"]
    assert _spans(import_export(path, "label-studio", use_predictions=True).records[0]) == ENTS


@pytest.mark.parametrize("old_style", [False, True])
def test_doccano_round_trip_keeps_spans(predicted_doc, tmp_path, old_style):
    path, _ = _export(predicted_doc, "doccano", tmp_path, "tasks.jsonl")
    row = json.loads(path.read_text(encoding="utf-8"))
    assert {"id", "start_offset", "end_offset", "label"} <= set(row["entities"][0])
    assert {"id", "from_id", "to_id", "type"} <= set(row["relations"][0])
    row["id"] = 7  # doccano's own example id in its export; ours rides in "kfact"
    if old_style:  # doccano's older export: label: [[start, end, LABEL]], no relations
        row["label"] = [[e["start_offset"], e["end_offset"], e["label"]] for e in row.pop("entities")]
        row.pop("relations")
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    imported = import_export(path, "doccano", split="dev")
    assert not imported.rejected
    assert _spans(imported.records[0]) == ENTS and imported.records[0].split == "dev"
    assert len(imported.records[0].claims) == (0 if old_style else 3)


def test_doccano_zip_download_imports_as_it_is(predicted_doc, tmp_path):
    """doccano's Export downloads a zip of one JSONL per annotator; kfact import reads the members in order."""
    import zipfile

    path, _ = _export(predicted_doc, "doccano", tmp_path, "tasks.jsonl")
    row = json.loads(path.read_text(encoding="utf-8"))
    second = dict(row, kfact=dict(row["kfact"], id=row["kfact"]["id"] + "-b"))
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("b.jsonl", json.dumps(second, ensure_ascii=False) + "\n")
        handle.writestr("a.jsonl", json.dumps(row, ensure_ascii=False) + "\n")
        handle.writestr("README.txt", "not a member that is read")
    imported = import_export(archive, "doccano")
    assert not imported.rejected and imported.read == 2
    assert [r.id for r in imported.records] == [row["kfact"]["id"], second["kfact"]["id"]]
    assert all(_spans(r) == ENTS for r in imported.records)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as handle:
        handle.writestr("README.txt", "nothing")
    with pytest.raises(AnnotationError, match="without .jsonl"):
        import_export(empty, "doccano")


def test_new_relation_gets_its_claim_from_the_linker_rules(predicted_doc, tmp_path):
    """An annotator draws a relation the model did not propose: 1위 -> 미국 (rank)."""
    path, _ = _export(predicted_doc, "doccano", tmp_path, "tasks.jsonl")
    row = json.loads(path.read_text(encoding="utf-8"))
    ids = {(e["start_offset"], e["end_offset"]): e["id"] for e in row["entities"]}
    row["relations"].append({"id": 99, "from_id": ids[ENTS[3][:2]], "to_id": ids[ENTS[5][:2]],  # drawn backwards
                             "type": "ai_private_investment"})
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    record = import_export(path, "doccano").records[0]
    new = [c for c in record.claims if c.value_span.start == ENTS[5][0]]
    assert len(new) == 1
    assert (new[0].subject.id, new[0].value, new[0].unit) == ("US", 1, "rank")


def _ls_task(task_id, record_id, results, text=TEXT):
    return {"id": task_id, "data": {"text": text, "kfact": {"id": record_id}},
            "annotations": [{"id": 1, "result": results}]}


def _region(rid, start, end, label, text=None):
    value = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        value["text"] = text
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels", "value": value}


def test_import_rejects_bad_tasks_naming_them_and_keeps_good_ones(tmp_path):
    n = len(TEXT)
    good = _ls_task(1, "good-1", [_region("a", 0, 2, "COUNTRY", "한국")])
    bad = _ls_task(2, "bad-2", [
        _region("a", 0, 2, "COUNTRY", "한국"), _region("b", 1, 3, "ORG"),           # overlap
        _region("c", n - 2, n + 5, "ORG"),                                            # out of range
        _region("d", ENTS[3][0], ENTS[3][1], "NATION"),                               # unknown label
        _region("e", ENTS[4][0], ENTS[4][1], "MONEY", "1000억 달러"),                 # text mismatch
        {"type": "relation", "from_id": "a", "to_id": "a", "labels": ["no_such_indicator"]}])
    export = tmp_path / "export.json"
    export.write_text(json.dumps([good, bad], ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "mine.jsonl"
    run = run_kfact("import", str(export), "-o", str(out), "--format", "label-studio")
    assert run.returncode == 1, run.stderr[-2000:]
    log = " ".join(run.stderr.split())
    assert "task 1 (id 'bad-2')" in log
    for message in ("overlaps span 0-2 (COUNTRY)", "out of range for text", "unknown label 'NATION'",
                    "the export says '1000억 달러'", "unknown indicator 'no_such_indicator'"):
        assert message in log, message
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["good-1"]
    rejects = [json.loads(line) for line in (tmp_path / "mine.jsonl.rejects.jsonl").read_text().splitlines()]
    assert [(r["id"], r["source"]) for r in rejects] == [("bad-2", "export.json task 1")]
    assert "overlaps" in rejects[0]["reason"] and "out of range" in rejects[0]["reason"]


def test_doccano_import_rejects_unknown_label_and_out_of_range(tmp_path):
    rows = [{"text": TEXT, "label": [[0, 2, "COUNTRY"], [3, 5, "TECH"]], "kfact": {"id": "d-0"}},
            {"text": TEXT, "label": [[0, len(TEXT) + 1, "ORG"]], "kfact": {"id": "d-1"}}]
    path = tmp_path / "doccano.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = import_export(path, "doccano")
    assert not result.records
    reasons = {r["id"]: (r["source"], r["reason"]) for r in result.rejected}
    assert reasons["d-0"][0].endswith("task 0") and "unknown label 'TECH'" in reasons["d-0"][1]
    assert reasons["d-1"][0].endswith("task 1") and "out of range" in reasons["d-1"][1]


def _ls_export_with_prediction_ids() -> list:
    """Label Studio's snapshot export by default: predictions listed by id only ("predictions": [12])."""
    region = _region("a", 0, 2, "COUNTRY", "한국")

    def data(record_id):
        return {"text": TEXT, "kfact": {"id": record_id}}

    return [
        {**_ls_task(1, "ls-annotated", [region]), "predictions": [11]},
        {"id": 2, "data": data("ls-ids-only"), "annotations": [], "predictions": [12]},
        {"id": 3, "data": data("ls-cancelled"), "predictions": [13],
         "annotations": [{"id": 3, "was_cancelled": True, "result": [region]}]},
        {"id": 4, "data": data("ls-full"), "annotations": [],
         "predictions": [14, {"id": 15, "model_version": "m", "result": [region]}]},
    ]


@pytest.mark.parametrize("use_predictions", [True, False])
def test_label_studio_export_with_predictions_by_id(tmp_path, use_predictions):
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_ls_export_with_prediction_ids(), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "mine.jsonl"
    args = ["import", str(export), "-o", str(out), "--format", "label-studio"]
    run = run_kfact(*args, *(["--use-predictions"] if use_predictions else []))
    assert run.returncode == 1, run.stderr[-2000:]  # bad tasks: listed, exit 1, no traceback
    assert "Traceback" not in run.stderr and "AttributeError" not in run.stderr
    imported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rejects = {r["id"]: r["reason"] for r in map(json.loads, (tmp_path / "mine.jsonl.rejects.jsonl").read_text("utf-8").splitlines())}
    # The annotated task is imported whatever its predictions look like; an id-only prediction is none at all,
    # and a full prediction next to an id is still used with --use-predictions. Every task is accounted for.
    assert [r["id"] for r in imported] == (["ls-annotated", "ls-full"] if use_predictions else ["ls-annotated"])
    assert [(e["start"], e["end"], e["label"]) for e in imported[0]["entities"]] == [(0, 2, "COUNTRY")]
    assert set(rejects) == ({"ls-ids-only", "ls-cancelled"} if use_predictions else {"ls-ids-only", "ls-cancelled", "ls-full"})
    for record_id, prediction in (("ls-ids-only", 12), ("ls-cancelled", 13)):
        reason = rejects[record_id]
        assert reason.startswith("no annotations") and f"only ids [{prediction}]" in reason, reason
        assert "complete predictions" in reason and "only_id = false" in reason, reason
        assert ("cannot import either" in reason) is not use_predictions
    if not use_predictions:
        assert "pass --use-predictions" in rejects["ls-full"]
    log = " ".join(run.stderr.split()) + " ".join(run.stdout.split())
    assert "only ids [12]" in log


def test_label_studio_malformed_predictions_are_problems_not_crashes(tmp_path):
    region = _region("a", 0, 2, "COUNTRY", "한국")
    tasks = [{"id": 1, "data": {"text": TEXT, "kfact": {"id": "p-int"}}, "predictions": 5},
             {"id": 2, "data": {"text": TEXT, "kfact": {"id": "p-str"}}, "predictions": ["abc"]},
             {"id": 3, "data": {"text": TEXT, "kfact": {"id": "p-none"}}, "predictions": [None]},
             {"id": 4, "data": {"text": TEXT, "kfact": {"id": "p-result"}}, "predictions": [{"result": 7}]},
             {"id": 5, "data": {"text": TEXT, "kfact": {"id": "p-ok"}}, "predictions": [{"result": [region]}]}]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    result = import_export(export, "label-studio", use_predictions=True)
    assert [r.id for r in result.records] == ["p-ok"]
    reasons = {r["id"]: r["reason"] for r in result.rejected}
    assert set(reasons) == {"p-int", "p-str", "p-none", "p-result"} and result.read == 5
    assert "predictions is not a list but int" in reasons["p-int"]
    assert "prediction 0 is not an object or an id but str" in reasons["p-str"]
    assert reasons["p-none"] == "no annotations"
    assert "result is not a list but int" in reasons["p-result"]
