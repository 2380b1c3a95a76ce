"""kfact_value_repair: mend the numbers the entity model split or cut short (pipeline/ner/repair.py).

Runs right after kfact_ner; `span._.ner_score` stays with the span that starts where the model's span did.
"""
from __future__ import annotations

from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.components.saved_files import save_files, saved_file
from pipeline.ner.repair import RepairLexicon, repair_value_spans
from pipeline.paths import resolve_path


LEXICON_FILE = "value_repair.toml"


class ValueRepair:
    def __init__(self, name: str, lexicon: RepairLexicon, lexicon_path: str | Path | None = None):
        self.name = name
        self.lexicon = lexicon
        self.lexicon_path = lexicon_path  # the file it was read from, saved by to_disk

    def to_disk(self, path, exclude=tuple()) -> None:
        save_files(path, {LEXICON_FILE: self.lexicon_path})

    def from_disk(self, path, exclude=tuple()) -> "ValueRepair":
        saved = saved_file(path, LEXICON_FILE)
        if saved is not None:
            self.lexicon, self.lexicon_path = RepairLexicon.from_toml(saved), saved
        return self

    def __call__(self, doc: Doc) -> Doc:
        ents = doc.ents
        if not ents:
            return doc
        scores = {e.start: e._.ner_score for e in ents}
        spans = []
        for first, last, label in repair_value_spans(doc, [(e.start, e.end, e.label_) for e in ents], self.lexicon):
            span = Span(doc, first, last, label=label)
            span._.ner_score = scores.get(first)
            spans.append(span)
        doc.ents = filter_spans(spans)
        return doc


@Language.factory("kfact_value_repair", requires=["doc.ents"], assigns=["doc.ents"],
                  default_config={"lexicon_path": "configs/value_repair.toml"})
def make_value_repair(nlp: Language, name: str, lexicon_path: str) -> ValueRepair:
    path = resolve_path(lexicon_path)
    return ValueRepair(name, RepairLexicon.from_toml(path), path)
