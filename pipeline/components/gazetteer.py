"""spaCy component: team-listed names the entity model misses (configs/entities.toml).

- `[models]`: AI model names are labelled MODEL and replace any entity they overlap: the entity model
  has few MODEL examples to learn from.
- `[aliases]`: known organisations are labelled ORG only where the entity model left a gap, and
- `[dates] relative`: closed-class relative dates (지난해, 올해) are labelled DATE only in gaps: the
  linker's years hang on them, and a list is the right tool for a closed class.
Pure: the lists are read when the pipeline is built.
"""
from __future__ import annotations

import re
import unicodedata
import tomllib
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from pipeline.components.tokenizer import nfc_with_offsets
from pipeline.extensions import doc_text


def _read(path: str | Path) -> dict:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def load_model_names(path: str | Path) -> list[str]:
    return [alias for aliases in _read(path).get("models", {}).values() for alias in aliases]


def load_gap_names(path: str | Path) -> dict[str, list[str]]:
    """Label -> surfaces that fill gaps only: ORG from [aliases] (minus [gazetteer] skip_orgs), DATE words."""
    table = _read(path)
    skip = set(table.get("gazetteer", {}).get("skip_orgs", []))
    orgs = [a for aliases in table.get("aliases", {}).values() for a in aliases if a not in skip]
    return {"ORG": orgs, "DATE": list(table.get("dates", {}).get("relative", []))}


def _pattern(surfaces: list[str]) -> re.Pattern[str] | None:
    if not surfaces:
        return None
    alternatives = "|".join(re.escape(s) for s in sorted(set(surfaces), key=len, reverse=True))
    # Korean particles may follow directly (엑사원은); a Latin letter or digit may not (GPT-4o ≠ GPT-4).
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![A-Za-z0-9.])")


ENTITIES_FILE = "entities.toml"


class ModelGazetteer:
    def __init__(self, name: str, surfaces: list[str], gap_surfaces: dict[str, list[str]] | None = None,
                 entities_path=None, fill_gaps: bool = True):
        self.name = name
        self.pattern = _pattern(surfaces)
        self.gap_patterns = {label: _pattern(s) for label, s in (gap_surfaces or {}).items() if s}
        self.entities_path, self.fill_gaps = entities_path, fill_gaps  # the source, saved by to_disk

    def to_disk(self, path, exclude=tuple()) -> None:
        from pipeline.components.saved_files import save_files

        save_files(path, {ENTITIES_FILE: self.entities_path})

    def from_disk(self, path, exclude=tuple()) -> "ModelGazetteer":
        from pipeline.components.saved_files import saved_file

        saved = saved_file(path, ENTITIES_FILE)
        if saved is not None:
            self.__init__(self.name, load_model_names(saved), load_gap_names(saved) if self.fill_gaps else None,
                          saved, self.fill_gaps)
        return self

    @staticmethod
    def _matches(doc: Doc, searched, pattern: re.Pattern[str] | None, label: str) -> list:
        """`searched` is (text, starts, ends): the NFC text and, when it differs, its offsets in the Doc."""
        if pattern is None:
            return []
        text, starts, ends = searched
        if starts is None:
            bounds = ((m.start(), m.end()) for m in pattern.finditer(text))
        else:
            bounds = ((starts[m.start()], ends[m.end() - 1]) for m in pattern.finditer(text) if m.end() > m.start())
        spans = (doc.char_span(a, b, label=label, alignment_mode="strict") for a, b in bounds)
        return [s for s in spans if s is not None]

    def __call__(self, doc: Doc) -> Doc:
        # Decomposed Hangul: match the NFC text and map offsets back (as the tokenizer does), once per Doc.
        text = doc_text(doc)
        searched = (text, None, None) if unicodedata.is_normalized("NFC", text) else nfc_with_offsets(text)
        ents = list(doc.ents)
        models = self._matches(doc, searched, self.pattern, "MODEL")
        if models:
            ents = filter_spans(models + [e for e in ents if not any(e.start < m.end and m.start < e.end for m in models)])
        taken = {i for e in ents for i in range(e.start, e.end)}
        gaps = [s for label, pattern in self.gap_patterns.items() for s in self._matches(doc, searched, pattern, label)
                if not any(i in taken for i in range(s.start, s.end))]
        if models or gaps:
            doc.ents = filter_spans(ents + gaps)
        return doc


@Language.factory("kfact_gazetteer", requires=["doc.ents"], assigns=["doc.ents"],
                  default_config={"entities_path": "configs/entities.toml", "fill_gaps": True})
def make_model_gazetteer(nlp: Language, name: str, entities_path: str, fill_gaps: bool) -> ModelGazetteer:
    from pipeline.paths import resolve_path

    path = resolve_path(entities_path)
    return ModelGazetteer(name, load_model_names(path), load_gap_names(path) if fill_gaps else None, path, fill_gaps)
