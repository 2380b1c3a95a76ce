"""The schema check over every file in annotations/, and the validator's refusals."""
import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.io.annotations import AnnotationError, load_annotations
from pipeline.ner.alignment import bio_tags
from pipeline.linking.taxonomy import load_indicators

ROOT = Path(__file__).resolve().parent.parent
INDICATORS = {i.id for i in load_indicators()}


def test_every_annotation_file_validates():
    records = load_annotations([ROOT / "annotations" / "*.jsonl"], INDICATORS)
    assert len(records) >= 200
    splits = Counter(r.split for r in records)
    assert splits["test"] > 0 and splits["dev"] > 0 and splits["train"] > 0
    assert sum(len(r.claims) for r in records if not r.id.startswith("seed")) >= 150
    assert {r.id for r in records if r.id.startswith("seed")} == {"seed-000", "seed-001", "seed-002"}


def test_seed_annotations_cover_the_acceptance_facts():
    records = {r.id: r for r in load_annotations([ROOT / "annotations" / "seeds.jsonl"], INDICATORS)}
    facts = {(c.subject.id, c.indicator.id, c.year, c.value, c.unit) for r in records.values() for c in r.claims}
    assert ("US", "ai_private_investment", 2024, 109100000000, "USD") in facts
    assert ("US", "ai_private_investment", 2024, 109900000000, "USD") in facts
    assert ("KR", "ai_private_investment", 2024, 11, "rank") in facts


def _write(tmp_path, record):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("entities, message", [
    ([{"start": 0, "end": 2, "label": "COUNTRY"}, {"start": 1, "end": 3, "label": "ORG"}], "overlaps"),
    ([{"start": 0, "end": 99, "label": "COUNTRY"}], "out of range"),
    ([{"start": 0, "end": 2, "label": "NATION"}], "unknown label"),
    ([{"start": 0, "end": 2, "label": "COUNTRY", "text": "중국"}], "annotated as"),
])
def test_validator_refuses_bad_spans_and_names_the_record(tmp_path, entities, message):
    path = _write(tmp_path, {"id": "rec-7", "text": "미국은 1위", "entities": entities})
    with pytest.raises(AnnotationError) as error:
        load_annotations([path], INDICATORS)
    assert "rec-7" in str(error.value) and message in str(error.value)


def test_validator_refuses_claims_without_value_entity(tmp_path):
    path = _write(tmp_path, {"id": "rec-8", "text": "미국은 1위", "entities": [{"start": 0, "end": 2, "label": "COUNTRY"}],
                             "claims": [{"subject": {"text": "미국", "type": "COUNTRY", "id": "US"},
                                         "indicator": {"id": "other"}, "value": 1, "unit": "rank",
                                         "value_span": {"start": 4, "end": 6}}]})
    with pytest.raises(AnnotationError, match="rec-8.*value_span"):
        load_annotations([path], INDICATORS)


def test_bio_projection_expands_and_counts_misaligned_spans(nlp_blank):
    from pipeline.ner.alignment import AlignmentStats

    doc = nlp_blank.make_doc("한국은 13억 달러로 11위")
    stats = AlignmentStats()
    tags = bio_tags(doc, [{"start": 0, "end": 1, "label": "COUNTRY"}, {"start": 4, "end": 11, "label": "MONEY"}], stats=stats)
    assert tags[0] == "B-COUNTRY"  # 한 -> expanded to the token 한국
    assert stats.misaligned == 1 and stats.spans == 2
    assert tags.count("B-MONEY") == 1
