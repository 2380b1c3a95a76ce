"""Who a value may be about: the subject entities of a sentence, lexicon subjects (국내 → KR), their ids,
and coordination (한국과 캐나다, 이스라엘 등은 1개 → three subjects share the value)."""
from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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
    compound_head: bool = False  # the lexicon word opens a compound noun: 세계식량가격지수, 국내총생산
    government: bool = False  # an ORG that is a government body (보건복지부, 통계청): its own subject type
    announcer: bool = False  # announces its sentence's figures: 통계청에 따르면, 사람인이 … 조사한 결과


@dataclass(frozen=True)
class SubjectLexicon:
    """Surface -> id for countries (ISO alpha-2) and for organisations and models (canonical lowercase ids);
    the entity labels that may be subjects; words that are not entities but name a country (국내 → KR)."""

    country_names: dict[str, str]
    canonical_ids: dict[str, str]
    labels: tuple[str, ...]
    # words that are not entities by the guideline but name a subject: 국내 -> (COUNTRY, KR), 세계 -> (LOCATION, world)
    lexicon_subjects: tuple[tuple[str, str, str], ...] = ()
    legal_forms: tuple[str, ...] = ()  # ㈜, 주식회사: stripped from an organisation's id
    government_pattern: str = ""  # ids or names of government bodies (configs/entities.toml [government_bodies])
    announcer_patterns: tuple[str, str, str] = ("", "", "")  # [announcers] source_cue, particle, verb

    @functools.cached_property
    def _announcer(self) -> tuple[re.Pattern[str] | None, ...]:
        return tuple(re.compile(p) if p else None for p in self.announcer_patterns)

    def is_announcer(self, after: str) -> bool:
        """`after`: the sentence's text right after the mention (its particle is read on the text: Kiwi splits
        some names with their particle, 사람인이 → 사람|인|이)."""
        cue, particle, verb = self._announcer
        if cue is not None and cue.match(after):
            return True
        return particle is not None and verb is not None and bool(particle.match(after)) and bool(verb.search(after))

    @functools.cached_property
    def _government(self) -> re.Pattern[str] | None:
        return re.compile(self.government_pattern) if self.government_pattern else None

    def is_government(self, label: str, text: str, sid: str) -> bool:
        return label == "ORG" and self._government is not None and bool(
            self._government.search(sid) or self._government.search(text))

    @functools.cached_property
    def _legal_form_pattern(self) -> re.Pattern[str] | None:
        if not self.legal_forms:
            return None
        markers = "|".join(re.escape(m) for m in sorted(self.legal_forms, key=len, reverse=True))
        return re.compile(rf"^\s*(?:{markers})\s*|\s*(?:{markers})\s*$")

    @functools.cached_property
    def lexicon_table(self) -> dict[str, tuple[str, str]]:
        """word -> (label, id)"""
        return {word: (label, sid) for word, label, sid in self.lexicon_subjects}

    @functools.cached_property
    def _lexicon_pattern(self) -> re.Pattern[str] | None:
        words = sorted((w for w, _, _ in self.lexicon_subjects), key=len, reverse=True)
        if not words:
            return None
        # not the end of another word; what may follow is checked on the morphemes (sentence_subjects)
        return re.compile(r"(?<![가-힣A-Za-z])(" + "|".join(re.escape(w) for w in words) + r")")

    def lexicon_mentions(self, text: str):
        """(start, end, word, label, id) of every lexicon subject word in text."""
        if self._lexicon_pattern is None:
            return []
        table = self.lexicon_table
        return [(m.start(), m.end(), m.group(1), *table[m.group(1)]) for m in self._lexicon_pattern.finditer(text)]

    def subject_id(self, label: str, text: str) -> str:
        if label == "COUNTRY":
            return self.country_names.get(text, text)
        if label == "ORG" and self._legal_form_pattern is not None:
            text = self._legal_form_pattern.sub("", text) or text
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
    text = doc_text(sentence.doc)[sentence.start_char:sentence.end_char]  # Span.text joins its tokens on each access
    for e in ents_within(sentence):
        if e.text in words:  # an entity that is a lexicon word (전 세계 tagged LOCATION) takes the word's subject
            label, sid = words[e.text]
        else:
            label = lexicon.subject_label(e.label_, e.text)
            sid = lexicon.subject_id(label, e.text)
        if label in lexicon.labels:
            after = text[e.end_char - sentence.start_char:]
            mentions.append(SubjectMention(e.start_char, e.end_char, label, e.text, sid, e.start, e.end,
                                           lexicon_word=e.text in words,
                                           government=lexicon.is_government(label, e.text, sid),
                                           announcer=lexicon.is_announcer(after)))
    covered = [(m.start, m.end) for m in mentions]
    doc = sentence.doc
    for start, end, word, label, sid in lexicon.lexicon_mentions(text):
        a, b = sentence.start_char + start, sentence.start_char + end
        span = doc.char_span(a, b)
        if span is None or not stands_alone(doc, span) or label not in lexicon.labels \
                or any(x < b and a < y for x, y in covered):
            continue
        mentions.append(SubjectMention(a, b, label, word, sid, span.start, span.end, lexicon_word=True))
        covered.append((a, b))
    mentions.extend(compound_heads(sentence, lexicon, covered))
    return sorted(mentions, key=lambda m: m.start)


def stands_alone(doc: Doc, span: Span) -> bool:
    """The word is whole morphemes and ends its word or takes a particle: 국내, 국내에서, 세계의; not 국내외 (one
    morpheme), 세계적 (a suffix) or 세계시장 (a compound, see compound_heads)."""
    if span.end >= len(doc) or doc[span.end - 1].whitespace_:
        return True
    following = doc[span.end]
    return following.tag_.startswith("J") or not HANGUL.match(following.text)


def compound_heads(sentence: Span, lexicon: SubjectLexicon, covered: list[tuple[int, int]]) -> list[SubjectMention]:
    """A lexicon word that is a whole morpheme opening a compound noun names the compound's subject:
    세계식량가격지수 (세계|식량|가격|지수) is the world's index. The word-level pattern leaves these out, and a
    suffix (세계적, 세계|적) or a fused word (국내외) is not a compound head."""
    words = lexicon.lexicon_table
    found = []
    for token, following in zip(sentence, sentence[1:]):
        if token.text not in words or token.whitespace_ or not following.tag_.startswith("NN"):
            continue
        a, b = token.idx, token.idx + len(token.text)
        label, sid = words[token.text]
        if label in lexicon.labels and not any(x < b and a < y for x, y in covered):
            found.append(SubjectMention(a, b, label, token.text, sid, token.i, token.i + 1,
                                        lexicon_word=True, compound_head=True))
    return found


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


class SubjectIds(NamedTuple):
    """configs/entities.toml's subject tables."""

    canonical_ids: dict[str, str]  # every surface of [aliases] and [models] (and each id itself) -> its id
    legal_forms: tuple[str, ...] = ()  # [legal_forms] markers, stripped from organisation ids
    government_pattern: str = ""  # [government_bodies] pattern: ministries, agencies, commissions
    announcer_patterns: tuple[str, str, str] = ("", "", "")  # [announcers] source_cue, particle, verb


def load_subject_ids(path: str | Path) -> SubjectIds:
    """configs/entities.toml, read once."""
    with open(path, "rb") as handle:
        table = tomllib.load(handle)
    ids: dict[str, str] = {}
    for canonical, aliases in [*table.get("aliases", {}).items(), *table.get("models", {}).items()]:
        ids[canonical] = canonical
        for alias in aliases:
            ids[alias] = canonical
    announcers = table.get("announcers", {})
    return SubjectIds(ids, tuple(table.get("legal_forms", {}).get("markers", [])),
                      table.get("government_bodies", {}).get("pattern", ""),
                      tuple(announcers.get(k, "") for k in ("source_cue", "particle", "verb")))
