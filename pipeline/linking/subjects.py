"""Who a value may be about: the subject entities of a sentence, lexicon subjects (국내 → KR), their ids,
and coordination (한국과 캐나다, 이스라엘 등은 1개 → three subjects share the value)."""
from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from spacy.tokens import Doc, Span

from pipeline.extensions import doc_text
from pipeline.linking.entity_index import ents_within

HANGUL = re.compile(r"[가-힣]")
COORDINATION_GAP = re.compile(r"^\s*(과|와|,|및|, 그리고|그리고)?\s*$")


@dataclass
class SubjectMention:
    start: int
    end: int
    label: str
    text: str
    id: str
    token_start: int
    token_end: int
    carried: bool = False
    lexicon_word: bool = False  # 국내, 우리나라: a word that names a country without being one's name


@dataclass(frozen=True)
class SubjectLexicon:
    """Surface -> id for countries (ISO alpha-2) and for organisations and models (canonical lowercase ids);
    the entity labels that may be subjects; words that are not entities but name a country (국내 → KR)."""

    country_names: dict[str, str]
    canonical_ids: dict[str, str]
    labels: tuple[str, ...]
    # words that are not entities by the guideline but name a subject: 국내 -> (COUNTRY, KR), 세계 -> (LOCATION, world)
    lexicon_subjects: tuple[tuple[str, str, str], ...] = ()

    @functools.cached_property
    def lexicon_table(self) -> dict[str, tuple[str, str]]:
        """word -> (label, id)"""
        return {word: (label, sid) for word, label, sid in self.lexicon_subjects}

    @functools.cached_property
    def _lexicon_pattern(self) -> re.Pattern[str] | None:
        words = sorted((w for w, _, _ in self.lexicon_subjects), key=len, reverse=True)
        if not words:
            return None
        # a whole word, or one followed by a particle (국내에서, 세계의): not inside another word (국내외, 세계적)
        return re.compile(r"(?<![가-힣A-Za-z])(" + "|".join(re.escape(w) for w in words) + r")(?![가-힣]{2,})")

    def lexicon_mentions(self, text: str):
        """(start, end, word, label, id) of every lexicon subject word in text."""
        if self._lexicon_pattern is None:
            return []
        table = self.lexicon_table
        return [(m.start(), m.end(), m.group(1), *table[m.group(1)]) for m in self._lexicon_pattern.finditer(text)]

    def subject_id(self, label: str, text: str) -> str:
        if label == "COUNTRY":
            return self.country_names.get(text, text)
        known = self.canonical_ids.get(text, self.canonical_ids.get(text.lower()))
        if known is not None:
            return known
        # GUIDELINE §3: organisations and models named in Latin letters get a lowercase id (KT&G -> kt&g)
        return text.lower() if label in ("ORG", "MODEL") and not HANGUL.search(text) else text

    def subject_label(self, ent_label: str, text: str) -> str:
        # News (and KMOU) tag a country acting as an institution ORG; a country name is a country subject.
        return "COUNTRY" if text in self.country_names and ent_label in ("ORG", "LOCATION", "COUNTRY") else ent_label


def next_token_tag(doc: Doc, token_end: int) -> str:
    return doc[token_end].tag_ if token_end < len(doc) else ""


def sentence_subjects(sentence: Span, lexicon: SubjectLexicon) -> list[SubjectMention]:
    mentions = []
    words = lexicon.lexicon_table
    for e in ents_within(sentence):
        if e.text in words:  # an entity that is a lexicon word (전 세계 tagged LOCATION) takes the word's subject
            label, sid = words[e.text]
        else:
            label = lexicon.subject_label(e.label_, e.text)
            sid = lexicon.subject_id(label, e.text)
        if label in lexicon.labels:
            mentions.append(SubjectMention(e.start_char, e.end_char, label, e.text, sid, e.start, e.end,
                                           lexicon_word=e.text in words))
    covered = [(m.start, m.end) for m in mentions]
    doc = sentence.doc
    for start, end, word, label, sid in lexicon.lexicon_mentions(sentence.text):
        a, b = sentence.start_char + start, sentence.start_char + end
        span = doc.char_span(a, b, alignment_mode="expand")
        if span is None or label not in lexicon.labels or any(x < b and a < y for x, y in covered):
            continue
        mentions.append(SubjectMention(a, b, label, word, sid, span.start, span.end, lexicon_word=True))
    return sorted(mentions, key=lambda m: m.start)


def is_short_name(short: str, full: str) -> bool:
    """산은 of 산업은행, 개인정보위 of 개인정보보호위원회 (the full name's letters in order, the first kept, not a
    mere prefix: 국회 is not 국회예산정책처), or 복지부 of 보건복지부 (a tail of three letters or more)."""
    if not (2 <= len(short) < len(full)) or not HANGUL.search(short):
        return False
    if len(short) >= 3 and full.endswith(short):
        return True
    if short[0] != full[0] or full.startswith(short):
        return False
    rest = iter(full)
    return all(ch in rest for ch in short)


def resolve_short_names(doc: Doc, mentions: list[SubjectMention]) -> None:
    """An organisation's short name takes the id of its full name named earlier in the article: 한국산업은행(산은),
    then 산은; 과학기술정보통신부, then 과기정통부. `mentions` in text order; ids are changed in place."""
    text = doc_text(doc)
    aliases: dict[str, str] = {}
    full_names: list[SubjectMention] = []
    previous: SubjectMention | None = None
    for m in mentions:
        if m.label == "ORG" and not m.lexicon_word:
            if previous is not None and previous.label == "ORG" and text[previous.end:m.start].strip() == "(" \
                    and text[m.end:m.end + 1] == ")":
                aliases[m.text] = previous.id  # 한국산업은행(산은)
            if m.text in aliases:
                m.id = aliases[m.text]
            elif m.id == m.text:
                full = next((f for f in reversed(full_names) if is_short_name(m.text, f.text)), None)
                if full is not None:
                    m.id = full.id
            if len(m.text) >= 4 and HANGUL.search(m.text):
                full_names.append(m)
        previous = m


def coordinated(doc: Doc, subject: SubjectMention, mentions: list[SubjectMention]) -> list[SubjectMention]:
    """한국과 캐나다, 이스라엘 등은 1개 -> all three share the value."""
    if subject.carried or subject not in mentions:
        return [subject]
    group = [subject]
    index = mentions.index(subject)
    while index > 0:
        previous = mentions[index - 1]
        if previous.label != subject.label or not COORDINATION_GAP.match(doc_text(doc)[previous.end:group[0].start]):
            break
        group.insert(0, previous)
        index -= 1
    return group


def load_canonical_ids(path: str | Path) -> dict[str, str]:
    """configs/entities.toml [aliases] and [models]: every surface (and the id itself) -> the canonical id."""
    with open(path, "rb") as handle:
        table = tomllib.load(handle)
    ids: dict[str, str] = {}
    for canonical, aliases in [*table.get("aliases", {}).items(), *table.get("models", {}).items()]:
        ids[canonical] = canonical
        for alias in aliases:
            ids[alias] = canonical
    return ids
