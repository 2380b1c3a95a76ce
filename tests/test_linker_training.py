"""Linker training's cross-validation (`kfact cv-linker`): folds by article, train+dev only, counts that add up."""

import pytest

from pipeline.evaluation.metrics import match_claims
from pipeline.io.annotations import load_annotations
from pipeline.linking.linker import LinkerConfig, build_linker
from pipeline.linking.taxonomy import load_indicators
from pipeline.training.linker import article_folds, cross_validate


@pytest.fixture(scope="module")
def records():
    return load_annotations(["annotations/wikinews_articles.jsonl"], {i.id for i in load_indicators()})


def test_folds_never_split_an_article(records):
    # paragraphs of one article as separate records must share a fold
    split_up = [r.model_copy(update={"id": f"{r.id}-part{n}"}) for r in records[:5] for n in range(3)]
    folds = article_folds(split_up, 4)
    by_article = {}
    for record, fold in zip(split_up, folds):
        by_article.setdefault(record.article or record.id, set()).add(fold)
    assert all(len(f) == 1 for f in by_article.values())
    assert len(set(folds)) > 1


def test_cross_validation_scores_every_train_and_dev_claim_once(nlp_blank, records):
    chosen = [r for r in records if r.split in ("train", "dev")][:8]
    held_out = [r for r in records if r.split == "test"][:2]
    assert held_out, "the fixture needs a test record to show it is left out"
    report = cross_validate(nlp_blank, build_linker(LinkerConfig(scorer_path="")), chosen + held_out, folds=2,
                            log=lambda *_: None)
    total = sum(len(match_claims(r.claims, []).missed) for r in chosen)  # gold claims after de-duplication
    for name in ("learned", "rules"):
        assert report[name]["tp"] + report[name]["fn"] == total
    assert sum(f["records"] for f in report["folds"]) == len(chosen)
    assert 0.0 <= report["learned"]["f1"] <= 1.0


def test_cross_validation_needs_two_folds(nlp_blank, records):
    with pytest.raises(ValueError):
        cross_validate(nlp_blank, build_linker(LinkerConfig(scorer_path="")), records, folds=1)


def test_cross_validation_sweeps_threshold_and_bias(nlp_blank, records):
    chosen = [r for r in records if r.split in ("train", "dev")][:8]
    report = cross_validate(nlp_blank, build_linker(LinkerConfig(scorer_path="")), chosen, folds=2, log=lambda *_: None)
    assert report["best"] in report["sweep"]
    assert report["best"]["cv_f1"] == max(s["cv_f1"] for s in report["sweep"])
    at_fixed = next(s for s in report["sweep"] if s["threshold"] == report["threshold"]
                    and s["other_bias"] == report["other_bias"])
    assert at_fixed["cv_f1"] == report["learned"]["f1"]  # the sweep links at each point, as the fixed run does


def test_training_links_with_the_settings_production_runs(tmp_path):
    # train-linker and cv-linker build their linker from [components.kfact_linker], so a setting changed there
    # is the one the scorer is trained and chosen with
    import spacy

    from pipeline.paths import DEFAULT_CONFIG

    shipped = spacy.util.load_config(DEFAULT_CONFIG)["components"]["kfact_linker"]
    config = LinkerConfig.from_pipeline_config(scorer_path="")
    assert (config.carry_sentences, config.document_subjects) == (shipped["carry_sentences"], shipped["document_subjects"])
    assert config.scorer_path == "" and config.subject_labels == tuple(shipped["subject_labels"])
    changed = tmp_path / "pipeline.cfg"
    changed.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8").replace(
        f"document_subjects = {shipped['document_subjects']}", "document_subjects = 1"), encoding="utf-8")
    linker = build_linker(LinkerConfig.from_pipeline_config(changed, scorer_path="", encoder_path=""))
    assert linker.document_subjects == 1
