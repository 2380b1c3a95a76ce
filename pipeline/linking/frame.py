"""The document time frame and layout the linker reads a value in.

Each article gets a frame: the report edition named anywhere in it, the period its lede (or title) opens
with, its `published` date; each paragraph the period its first sentence names and the heading it sits
under. A value whose own sentence names no period inherits from the paragraph, then the article.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from pipeline.extensions import doc_text
from pipeline.linking.entity_index import ents_within
from pipeline.linking.periods import is_period
from pipeline.linking.taxonomy import ReportEditions

# A heading line: short, and not a sentence (no final ending); bullets and brackets allowed.
SENTENCE_FINAL = re.compile(r"(다|요|음|함|됨|임)\s*[.!?]?\s*[\"'”’)\]]*\s*$|[.!?。]\s*$")
HEADING_MAX_CHARS = 60
LEDE_SENTENCES = 3


@dataclass
class Paragraph:
    index: int
    sentences: list[Span]
    heading: str | None = None  # the heading this paragraph sits under (or the title)
    year: int | None = None  # the period its first sentence names

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@dataclass
class DocumentFrame:
    paragraphs: list[Paragraph]
    sentence_paragraph: dict[int, int]  # sentence start token -> paragraph index
    sentence_order: dict[int, int]  # sentence start token -> position in the document
    edition_year: int | None = None  # the data year of a report edition named anywhere
    lede_year: int | None = None  # the first period of the lede
    published_year: int | None = None
    title: str | None = None
    sentences: list[Span] = field(default_factory=list)

    @property
    def article_year(self) -> int | None:
        return self.edition_year if self.edition_year is not None else self.lede_year

    def paragraph_of(self, sentence: Span) -> Paragraph:
        return self.paragraphs[self.sentence_paragraph[sentence.start]]

    def position(self, sentence: Span) -> int:
        return self.sentence_order[sentence.start]


def first_period_year(sentence: Span) -> int | None:
    """The year of the first period the sentence names; of a range (최근 10년간(’11년~’20년)), its last year,
    which a total or a share over the period describes (GUIDELINE §3)."""
    for ent in ents_within(sentence):
        if is_period(sentence.doc, ent):
            value = ent._.value
            return value.end_year if getattr(value, "end_year", None) is not None else value.year
    return None


def is_heading(text: str) -> bool:
    stripped = text.strip()
    return 0 < len(stripped) <= HEADING_MAX_CHARS and not SENTENCE_FINAL.search(stripped)


def document_frame(doc: Doc, editions: ReportEditions) -> DocumentFrame:
    text = doc_text(doc)
    paragraphs: list[Paragraph] = []
    sentences = [s for s in doc.sents if s.text.strip()]
    for sentence in sentences:
        new_paragraph = not paragraphs or "\n" in text[max(0, sentence.start_char - 2):sentence.start_char + 1]
        if new_paragraph:
            paragraphs.append(Paragraph(len(paragraphs), [sentence]))
        else:
            paragraphs[-1].sentences.append(sentence)
    title = None
    heading = None
    for i, paragraph in enumerate(paragraphs):
        paragraph.year = first_period_year(paragraph.sentences[0])
        if len(paragraph.sentences) == 1 and is_heading(paragraph.sentences[0].text):
            heading = paragraph.sentences[0].text.strip()
            if i == 0:
                title = heading
        paragraph.heading = heading
    edition_year = next((y for y in (editions.data_year(s.text) for s in sentences) if y is not None), None)
    body = [s for s in sentences if title is None or s.text.strip() != title]
    lede_year = next((y for y in (first_period_year(s) for s in body[:LEDE_SENTENCES]) if y is not None), None)
    if lede_year is None and title is not None:
        lede_year = first_period_year(sentences[0])
    published = doc._.published
    return DocumentFrame(
        paragraphs=paragraphs,
        sentence_paragraph={s.start: p.index for p in paragraphs for s in p.sentences},
        sentence_order={s.start: i for i, s in enumerate(sentences)},
        edition_year=edition_year, lede_year=lede_year,
        published_year=published.year if published is not None else None, title=title, sentences=sentences)
