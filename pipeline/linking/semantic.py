"""Indicator choice by meaning: each value's context against every taxonomy indicator's description.

The context of a value is read at four widths (the words around it, its sentence, the sentence before it in
its paragraph, the heading it sits under). Sentences and headings are embedded as e5 "query: …"; the words
around a value are pooled from its sentence's pass (one encoder pass per sentence, not one per value). Every
indicator is embedded once as "passage: <description> — <aliases>". Their cosines are features of the indicator ranker, so an
indicator with no training example is still reachable through its description.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pipeline.linking.taxonomy import IndicatorDef

CONTEXT_KINDS = ("local", "sentence", "previous", "heading")
LOCAL_BEFORE, LOCAL_AFTER = 40, 12  # characters around the value that make its local context


def indicator_passage(indicator: IndicatorDef) -> str:
    return f"{indicator.ko} — {', '.join(indicator.aliases)}" if indicator.aliases else indicator.ko


@dataclass
class ValueTexts:
    """The context texts of one value (empty where there is none); its local context is the character span
    `local` of `sentence`."""

    local: tuple[int, int]
    sentence: str
    previous: str
    heading: str

    def get(self, kind: str) -> str:
        return getattr(self, kind)

    @property
    def local_text(self) -> str:
        return self.sentence[self.local[0]:self.local[1]]


TEXT_KINDS = ("sentence", "previous", "heading")


class IndicatorSemantics:
    def __init__(self, encoder, indicators: Sequence[IndicatorDef]):
        self.encoder = encoder
        self.indicators = list(indicators)
        # once per encoder and taxonomy in a process: evaluation and the retrain loop build pipelines repeatedly
        self.passages = encoder.embed_once([indicator_passage(i) for i in self.indicators], prefix="passage: ")

        text = "\n".join(f"{i.id}\t{indicator_passage(i)}" for i in self.indicators)
        self.fingerprint = hashlib.sha1(text.encode("utf-8")).hexdigest()  # what the passages were computed from

    def similarities(self, contexts: Sequence[ValueTexts]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(kind -> [n_values, n_indicators] cosines, kind -> [n_values, hidden] context vectors); an empty
        context gives zeros."""
        unique = sorted({c.get(k) for c in contexts for k in TEXT_KINDS if c.get(k)})
        index = {text: i for i, text in enumerate(unique)}
        spans: list[dict[tuple[int, int], int]] = [{} for _ in unique]
        for c in contexts:
            if c.sentence and c.local_text.strip():
                spans[index[c.sentence]].setdefault(c.local, len(spans[index[c.sentence]]))
        hidden = self.passages.shape[1]
        zero = np.zeros(hidden, dtype=np.float32)
        if unique:
            vectors, span_vectors = self.encoder.embed_with_spans(unique, [list(s) for s in spans], prefix="query: ")
        else:
            vectors, span_vectors = np.zeros((0, hidden), np.float32), []

        def vector(c: ValueTexts, kind: str) -> np.ndarray:
            if kind == "local":
                at = spans[index[c.sentence]].get(c.local) if c.sentence else None
                return span_vectors[index[c.sentence]][at] if at is not None else zero
            return vectors[index[c.get(kind)]] if c.get(kind) else zero

        by_kind = {kind: np.stack([vector(c, kind) for c in contexts]) if contexts
                   else np.zeros((0, hidden), dtype=np.float32) for kind in CONTEXT_KINDS}
        return {kind: v @ self.passages.T for kind, v in by_kind.items()}, by_kind
