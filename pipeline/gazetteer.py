"""spaCy component: label known AI model names MODEL (configs/entities.toml [models]).

The entity model has few MODEL examples to learn from; a list the team controls covers the names
that matter now. A gazetteer match replaces any entity it overlaps. Pure: the list is read when
the pipeline is built.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans


def load_model_names(path: str | Path) -> list[str]:
    with open(path, "rb") as handle:
        table = tomllib.load(handle)
    return [alias for aliases in table.get("models", {}).values() for alias in aliases]


class ModelGazetteer:
    def __init__(self, name: str, surfaces: list[str]):
        self.name = name
        alternatives = "|".join(re.escape(s) for s in sorted(set(surfaces), key=len, reverse=True))
        # Korean particles may follow directly (엑사원은); a Latin letter or digit may not (GPT-4o ≠ GPT-4).
        self.pattern = re.compile(rf"(?<![\w])(?:{alternatives})(?![A-Za-z0-9.])") if surfaces else None

    def __call__(self, doc: Doc) -> Doc:
        if self.pattern is None:
            return doc
        matches = []
        for match in self.pattern.finditer(doc.text):
            span = doc.char_span(match.start(), match.end(), label="MODEL", alignment_mode="strict")
            if span is not None:
                matches.append(span)
        if matches:
            kept = [e for e in doc.ents if not any(e.start < m.end and m.start < e.end for m in matches)]
            doc.ents = filter_spans(matches + kept)
        return doc


@Language.factory("kfact_gazetteer", requires=["doc.ents"], assigns=["doc.ents"],
                  default_config={"entities_path": "configs/entities.toml"})
def make_model_gazetteer(nlp: Language, name: str, entities_path: str) -> ModelGazetteer:
    from pipeline.nlp import resolve_path

    return ModelGazetteer(name, load_model_names(resolve_path(entities_path)))
