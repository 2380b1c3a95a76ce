"""spaCy component: attach normalized values to entities (`span._.value`).

Pure: reads `doc._.published` for relative dates, calls the normalizers, writes on spans.
"""
from __future__ import annotations

import dataclasses
import re

from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.extensions import doc_text
from pipeline.normalize import normalize
from pipeline.normalize.types import NumericValue

# "한 명의 수상자도 배출하지 못했다", "하나도 없다": "not even one" states a count of zero.
NOT_EVEN_ONE_AFTER = re.compile(r"^(\s*의\s*[^\s.,]{1,12})?\s*도\s+([^\s.,]+\s+){0,3}?[^\s.,]*(없|못|않|전무)")


def zero_if_not_even_one(doc: Doc, ent: Span, value):
    """A count of one followed by 도 and a negation is a zero count (GUIDELINE: negative statements)."""
    if not isinstance(value, NumericValue) or value.value != 1 or value.unit not in ("count", "number") \
            or value.value_max:
        return value
    start = ent.end_char - 1 if ent.text.endswith("도") else ent.end_char  # "하나도": the 도 is in the entity
    if NOT_EVEN_ONE_AFTER.match(doc_text(doc)[start:ent.end_char + 40]):
        return dataclasses.replace(value, value=0.0, unit="count")
    return value


class ValueNormalizer:
    def __init__(self, name: str, zero_for_not_even_one: bool = True):
        self.name = name
        self.zero_for_not_even_one = zero_for_not_even_one

    def __call__(self, doc: Doc) -> Doc:
        for ent in doc.ents:
            value = normalize(ent.label_, ent.text, doc._.published)
            if self.zero_for_not_even_one and ent.label_ == "QUANTITY":
                value = zero_if_not_even_one(doc, ent, value)
            ent._.value = value
        return doc


@Language.factory("kfact_normalize", requires=["doc.ents"], assigns=["span._.value"],
                  default_config={"zero_for_not_even_one": True})
def make_value_normalizer(nlp: Language, name: str, zero_for_not_even_one: bool) -> ValueNormalizer:
    return ValueNormalizer(name, zero_for_not_even_one)
