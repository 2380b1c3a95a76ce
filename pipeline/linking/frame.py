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
LEDE_PARAGRAPHS = 1  # prose paragraphs of the lede, after the title's subtitle lines
LEDE_MAX_SENTENCES = 8
# Subtitle and heading lines ("- 한국, 전세계 출원의 25.4% 차지 -", "<주요 출원인: …>", "# …"); a release's □
# and ㅇ paragraphs are prose.
SUBTITLE = re.compile(r"^\s*[-–—▷▶►※*<\[#]")


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


def _periods(sentence: Span):
    """The DateValues of the periods the sentence names, in order."""
    return (ent._.value for ent in ents_within(sentence) if is_period(sentence.doc, ent))


def first_period_year(sentence: Span) -> int | None:
    """The year of the first period the sentence names; of a range (최근 10년간(’11년~’20년)), its last year,
    which a total or a share over the period describes (GUIDELINE §3)."""
    value = next(_periods(sentence), None)
    if value is None:
        return None
    return value.end_year if value.end_year is not None else value.year


def first_range_end(sentence: Span) -> int | None:
    """The last year of the first period range the sentence names."""
    return next((value.end_year for value in _periods(sentence) if value.end_year is not None), None)


def lede_sentences(paragraphs: list["Paragraph"], title: str | None) -> list[Span]:
    """The subtitle lines under the title and the first LEDE_PARAGRAPHS prose paragraphs (a press release's
    "- …" subtitles and "<…>" headings are not prose), at most LEDE_MAX_SENTENCES sentences."""
    lede: list[Span] = []
    prose = 0
    for paragraph in paragraphs:
        first = paragraph.sentences[0].text.strip()
        if title is not None and paragraph.index == 0 and first == title:
            continue
        lede.extend(paragraph.sentences)
        if not (SUBTITLE.match(first) or (len(paragraph.sentences) == 1 and is_heading(first))):
            prose += 1
        if prose >= LEDE_PARAGRAPHS or len(lede) >= LEDE_MAX_SENTENCES:
            break
    return lede[:LEDE_MAX_SENTENCES]


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
    published = doc._.published
    published_year = published.year if published is not None else None
    # an explicit statement of the period covered outranks an edition's name
    edition_year = next((y for y in (editions.scope_year(s.text, published_year) for s in sentences) if y is not None),
                        None)
    if edition_year is None:
        edition_year = next((y for y in (editions.data_year(s.text) for s in sentences) if y is not None), None)
    lede = lede_sentences(paragraphs, title)
    # A stated period range (최근 10년간(’11년~’20년)) is what the article reports on, before any point date the
    # lede opens with (an anecdote's ’19년); else the lede's first period; else the title's.
    lede_year = next((y for y in (first_range_end(s) for s in lede) if y is not None), None)
    if lede_year is None:
        lede_year = next((y for y in (first_period_year(s) for s in lede) if y is not None), None)
    if lede_year is None and title is not None:
        lede_year = first_period_year(sentences[0])
    return DocumentFrame(
        paragraphs=paragraphs,
        sentence_paragraph={s.start: p.index for p in paragraphs for s in p.sentences},
        sentence_order={s.start: i for i, s in enumerate(sentences)},
        edition_year=edition_year, lede_year=lede_year,
        published_year=published_year, title=title, sentences=sentences)
