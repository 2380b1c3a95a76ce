"""Entities of a Doc looked up by position: spaCy rebuilds every entity Span on each `doc.ents` access,
and the linker asks for a sentence's or a stretch's entities several times per value."""
from __future__ import annotations

from bisect import bisect_left

from spacy.tokens import Doc, Span

_ENTS_KEY = "kfact_linker_ents"


class EntityIndex:
    """doc.ents taken once, sorted by start."""

    def __init__(self, doc: Doc):
        self.ents = tuple(doc.ents)
        self.starts = [e.start for e in self.ents]
        self.start_chars = [e.start_char for e in self.ents]

    def starting_in(self, lo: int, hi: int) -> tuple[Span, ...]:
        """Entities whose first token is in [lo, hi)."""
        return self.ents[bisect_left(self.starts, lo):bisect_left(self.starts, max(lo, hi))]

    def starting_in_chars(self, lo: int, hi: int) -> tuple[Span, ...]:
        return self.ents[bisect_left(self.start_chars, lo):bisect_left(self.start_chars, max(lo, hi))]


class indexed_entities:
    """`with indexed_entities(doc):` — the lookups below use one index for the duration of a linking pass."""

    def __init__(self, doc: Doc):
        self.doc = doc

    def __enter__(self) -> EntityIndex:
        index = self.doc.user_data[_ENTS_KEY] = EntityIndex(self.doc)
        return index

    def __exit__(self, *exc) -> None:
        self.doc.user_data.pop(_ENTS_KEY, None)


def entity_index(doc: Doc) -> EntityIndex:
    index = doc.user_data.get(_ENTS_KEY)
    return index if index is not None else EntityIndex(doc)


def ents_within(span: Doc | Span) -> list[Span]:
    """`span.ents` (entities wholly inside the span) from the entity index."""
    doc = span if isinstance(span, Doc) else span.doc
    index = entity_index(doc)
    if span is doc:
        return list(index.ents)
    return [e for e in index.starting_in(span.start, span.end) if e.end <= span.end]
