"""spaCy component: attach normalized values to entities (`span._.value`).

Pure: reads `doc._.published` for relative dates, calls the normalizers, writes on spans.
"""
from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.normalize import normalize


class ValueNormalizer:
    def __init__(self, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        for ent in doc.ents:
            ent._.value = normalize(ent.label_, ent.text, doc._.published)
        return doc


@Language.factory("kfact_normalize", requires=["doc.ents"], assigns=["span._.value"])
def make_value_normalizer(nlp: Language, name: str) -> ValueNormalizer:
    return ValueNormalizer(name)
