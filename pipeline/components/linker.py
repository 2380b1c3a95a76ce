"""kfact_linker: value entities -> claims on `doc._.claims` (pipeline/linking/)."""
from __future__ import annotations

from spacy.language import Language

from pipeline.linking.linker import ClaimLinker, LinkerConfig, build_linker

_DEFAULTS = LinkerConfig()


@Language.factory(
    "kfact_linker", requires=["doc.ents", "span._.value"], assigns=["doc._.claims"],
    default_config={"indicators_path": _DEFAULTS.indicators_path, "countries_path": _DEFAULTS.countries_path,
                    "entities_path": _DEFAULTS.entities_path, "scorer_path": _DEFAULTS.scorer_path,
                    "threshold": None, "subject_labels": list(_DEFAULTS.subject_labels),
                    "lexicon_subjects": dict(_DEFAULTS.lexicon_subjects),
                    "max_sentence_entities": _DEFAULTS.max_sentence_entities,
                    "encoder_path": _DEFAULTS.encoder_path, "carry_sentences": _DEFAULTS.carry_sentences,
                    "document_subjects": _DEFAULTS.document_subjects, "encoder_backend": _DEFAULTS.encoder_backend},
)
def make_claim_linker(nlp: Language, name: str, indicators_path: str, countries_path: str, entities_path: str,
                      scorer_path: str, threshold: float | None, subject_labels: list[str],
                      lexicon_subjects: dict[str, str], max_sentence_entities: int, encoder_path: str,
                      carry_sentences: int, document_subjects: int, encoder_backend: str) -> ClaimLinker:
    missing = [c for c in ("kfact_ner", "kfact_normalize") if c not in nlp.pipe_names]
    if missing:
        raise ValueError(f"kfact_linker needs {missing} earlier in the pipeline (it links normalized entities)")
    return build_linker(LinkerConfig(
        indicators_path=indicators_path, countries_path=countries_path, entities_path=entities_path,
        scorer_path=scorer_path, threshold=threshold, subject_labels=tuple(subject_labels),
        lexicon_subjects=dict(lexicon_subjects), max_sentence_entities=max_sentence_entities,
        encoder_path=encoder_path, carry_sentences=carry_sentences, document_subjects=document_subjects,
        encoder_backend=encoder_backend), name)
