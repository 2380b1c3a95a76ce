"""The relation step: each value entity -> (subject, indicator, year, unit) claim.

Candidates come from rules (entities in the sentence, the subject carried from the previous
sentence, lexicon matches such as 국내/우리나라); which subject a value belongs to, and whether a
value is a claim at all, is scored by a model learned from the gold annotations
(`kfact train-linker`), with a rules-only scorer as the baseline. Indicators and years are
rules: taxonomy aliases and date resolution are lookups, not judgements.
"""
from __future__ import annotations

import json
import math
import re
import tomllib
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.annotation_io import VALUE_LABELS
from pipeline.extensions import doc_text
from pipeline.normalize import DateValue, NumericValue
from pipeline.schema import Claim, Indicator, Subject
from pipeline.schema import Span as OffsetSpan
from pipeline.taxonomy import IndicatorDef, ReportEditions, load_country_names, load_indicators, load_report_editions

SUBJECT_LABELS = ("COUNTRY", "ORG", "MODEL")
# News sentences carry a handful of entities; hostile input (a 5,000-char line without a full stop) can carry
# hundreds, and every value is scored against every subject with features that scan the whole sentence.
MAX_SENTENCE_ENTITIES = 64
CURRENCIES = {"USD", "KRW", "EUR", "CNY", "JPY", "GBP"}
CHANGE_WORDS = re.compile(r"^[^.。]{0,12}?(증가|감소|늘|줄|상승|하락|성장|급증|급감|올랐|올라|떨어|확대|축소|뛰)")
DECREASE_WORDS = re.compile(r"(감소|줄|하락|급감|떨어|축소|낮아|내려|둔화|마이너스)")
PLAN_WORDS = re.compile(r"(계획|하겠다|할 방침|할 예정|발표했|밝혔)")
# A date followed by these marks a starting point or a past comparison, not the claim's period.
SINCE_AFTER = re.compile(r"^\s*(이후|부터|이래|에 비해|보다|대비|과 비교|와 비교)")
FROM_BEFORE_TO = re.compile(r"^\s*에서\s*(약\s*)?-?\d[\d,.]*(\s*[^\s,.]{1,6}?){0,2}?(으로|로)(?![가-힣])")
PREVIOUS_PERIOD_BEFORE = re.compile(r"(전년|전년도|전년 동기|전년동기|작년 동기|전년 같은 기간)\s*\(?\s*$")
COMPARISON_BEFORE = re.compile(r"(대비|보다|比)\s*$")
COORDINATION_GAP = re.compile(r"^\s*(과|와|,|및|, 그리고|그리고)?\s*$")
# Lexicon subjects that are not entities by the guideline but name a country in news text.
LEXICON_SUBJECTS = ("국내", "우리나라", "우리 정부", "우리")


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


@dataclass
class ValueContext:
    span: Span
    value: NumericValue
    sentence: Span
    subjects: list[SubjectMention]
    features: list[dict[str, float]] = field(default_factory=list)
    claim_features: dict[str, float] = field(default_factory=dict)
    indicator_candidates: list["IndicatorCandidate"] = field(default_factory=list)


@dataclass
class IndicatorCandidate:
    """An indicator alias found in the value's sentence, or the indicator carried from before."""

    indicator: IndicatorDef
    text: str
    start: int  # character offsets of the alias; -1 for a carried one
    end: int
    features: dict[str, float] = field(default_factory=dict)


# -- features ------------------------------------------------------------------------------------

SUBJECT_FEATURES = (
    "bias", "same_sentence", "carried", "before", "after", "log_token_distance", "topic_marker",
    "subject_marker", "genitive", "values_between", "subjects_between", "nearest_before", "nearest_any",
    "is_country", "is_org", "is_model", "value_in_parens", "lexicon", "carried_over_own_subject",
)
INDICATOR_FEATURES = (
    "bias", "carried", "before", "after", "log_char_distance", "unit_fits", "nearest_before",
    "nearest_after", "values_between", "alias_length", "comma_between", "unit_is_currency_fit",
    "unit_is_count_fit", "unit_is_percent_fit", "expects_any",
)
CLAIM_FEATURES = (
    "bias", "has_subject_in_sentence", "has_carried_subject", "has_indicator", "indicator_unit_match",
    "has_year", "is_money", "is_percent", "is_quantity", "unit_rank", "unit_count", "unit_number",
    "in_parens", "sentence_has_predicate", "values_in_sentence_log", "hangul_ratio", "approximate",
    "short_line", "in_boilerplate",
)


_ENTS_KEY = "kfact_linker_ents"


class _EntityIndex:
    """doc.ents taken once per link(), sorted by start: spaCy rebuilds every entity Span on each access,
    and the linker asks for a sentence's or a stretch's entities several times per value."""

    def __init__(self, doc: Doc):
        self.ents = tuple(doc.ents)
        self.starts = [e.start for e in self.ents]
        self.start_chars = [e.start_char for e in self.ents]

    def starting_in(self, lo: int, hi: int) -> tuple[Span, ...]:
        """Entities whose first token is in [lo, hi)."""
        return self.ents[bisect_left(self.starts, lo):bisect_left(self.starts, max(lo, hi))]

    def starting_in_chars(self, lo: int, hi: int) -> tuple[Span, ...]:
        return self.ents[bisect_left(self.start_chars, lo):bisect_left(self.start_chars, max(lo, hi))]


def _entity_index(doc: Doc) -> _EntityIndex:
    index = doc.user_data.get(_ENTS_KEY)
    return index if index is not None else _EntityIndex(doc)


def _ents_within(span: Doc | Span) -> list[Span]:
    """`span.ents` (entities wholly inside the span) from the entity index."""
    doc = span if isinstance(span, Doc) else span.doc
    index = _entity_index(doc)
    if span is doc:
        return list(index.ents)
    return [e for e in index.starting_in(span.start, span.end) if e.end <= span.end]


def _next_token_tag(doc: Doc, token_end: int) -> str:
    return doc[token_end].tag_ if token_end < len(doc) else ""


def subject_features(doc: Doc, value: Span, subject: SubjectMention, ctx: ValueContext) -> dict[str, float]:
    before = subject.end <= value.start_char
    distance = abs(value.start - subject.token_end) if before else abs(subject.token_start - value.end)
    lo, hi = (subject.token_end, value.start) if before else (value.end, subject.token_start)
    values_between = sum(1 for e in _entity_index(doc).starting_in(lo, hi) if e.label_ in VALUE_LABELS)
    subjects_between = sum(1 for s in ctx.subjects if not s.carried and lo <= s.token_start < hi and s is not subject)
    preceding = [s for s in ctx.subjects if not s.carried and s.end <= value.start_char]
    nearest_before = bool(preceding) and max(preceding, key=lambda s: s.end) is subject
    in_sentence = [s for s in ctx.subjects if not s.carried]
    nearest_any = bool(in_sentence) and min(
        in_sentence, key=lambda s: min(abs(s.end - value.start_char), abs(s.start - value.end_char))) is subject
    tag = "" if subject.carried else _next_token_tag(doc, subject.token_end)
    return {
        "bias": 1.0,
        "same_sentence": float(not subject.carried),
        "carried": float(subject.carried),
        "before": float(before and not subject.carried),
        "after": float(not before and not subject.carried),
        "log_token_distance": 0.0 if subject.carried else math.log1p(distance),
        "topic_marker": float("JX" in tag),
        "subject_marker": float("JKS" in tag),
        "genitive": float("JKG" in tag),
        "values_between": 0.0 if subject.carried else float(values_between),
        "subjects_between": float(subjects_between),
        "nearest_before": float(nearest_before),
        "nearest_any": float(nearest_any),
        "is_country": float(subject.label == "COUNTRY"),
        "is_org": float(subject.label == "ORG"),
        "is_model": float(subject.label == "MODEL"),
        "value_in_parens": float(_in_parens(doc, value)),
        "lexicon": float(subject.label == "COUNTRY" and subject.text in LEXICON_SUBJECTS and not subject.carried),
        # A subject carried from earlier while the sentence names its own before the value: rarely right.
        "carried_over_own_subject": float(subject.carried and bool(preceding)),
    }


def indicator_features(doc: Doc, value: Span, candidate: IndicatorCandidate, candidates: list[IndicatorCandidate],
                       unit: str | None) -> dict[str, float]:
    carried = candidate.start < 0
    before = not carried and candidate.end <= value.start_char
    after = not carried and candidate.start >= value.end_char
    lo, hi = (candidate.end, value.start_char) if before else (value.end_char, candidate.start)
    in_sentence = [c for c in candidates if c.start >= 0]
    befores = [c for c in in_sentence if c.end <= value.start_char]
    afters = [c for c in in_sentence if c.start >= value.end_char]
    fits = unit_compatible(candidate.indicator.unit, unit)
    expected = candidate.indicator.unit
    return {
        "bias": 1.0,
        "carried": float(carried),
        "before": float(before),
        "after": float(after),
        "log_char_distance": 0.0 if carried else math.log1p(max(0, hi - lo)),
        "unit_fits": float(fits),
        "nearest_before": float(bool(befores) and max(befores, key=lambda c: c.end) is candidate),
        "nearest_after": float(bool(afters) and min(afters, key=lambda c: c.start) is candidate),
        "values_between": 0.0 if carried else float(sum(1 for e in _entity_index(doc).starting_in_chars(lo, hi)
                                                        if e.label_ in VALUE_LABELS)),
        "alias_length": min(len(candidate.text), 12) / 12.0,
        "comma_between": 0.0 if carried else float("," in doc_text(doc)[lo:hi]),
        "unit_is_currency_fit": float(fits and expected == "currency"),
        "unit_is_count_fit": float(fits and expected == "count"),
        "unit_is_percent_fit": float(fits and expected == "percent"),
        "expects_any": float(expected == "any"),
    }


def claim_features(doc: Doc, ctx: ValueContext, indicator: IndicatorDef | None, year: int | None,
                   unit: str | None, boilerplate: bool) -> dict[str, float]:
    sentence = ctx.sentence
    text = sentence.text
    hangul = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3")
    values_in_sentence = sum(1 for e in _ents_within(sentence) if e.label_ in VALUE_LABELS)
    value_unit = ctx.value.unit or ""
    return {
        "bias": 1.0,
        "has_subject_in_sentence": float(any(not s.carried for s in ctx.subjects)),
        "has_carried_subject": float(any(s.carried for s in ctx.subjects)),
        "has_indicator": float(indicator is not None and indicator.id != "other"),
        "indicator_unit_match": float(indicator is not None and unit_compatible(indicator.unit, unit)),
        "has_year": float(year is not None),
        "is_money": float(ctx.span.label_ == "MONEY"),
        "is_percent": float(ctx.span.label_ == "PERCENT"),
        "is_quantity": float(ctx.span.label_ == "QUANTITY"),
        "unit_rank": float(value_unit == "rank"),
        "unit_count": float(value_unit == "count"),
        "unit_number": float(value_unit == "number"),
        "in_parens": float(_in_parens(doc, ctx.span)),
        "sentence_has_predicate": float(any(t.tag_.endswith(("EF", "EC", "ETM")) or "+EF" in t.tag_ or "+EC" in t.tag_
                                            for t in sentence)),
        "values_in_sentence_log": math.log1p(values_in_sentence),
        "hangul_ratio": hangul / max(1, len(text)),
        "approximate": float(ctx.value.approximate),
        "short_line": float(len(text.strip()) < 25),
        "in_boilerplate": float(boilerplate),
    }


def unit_compatible(expected: str, unit: str | None) -> bool:
    if unit is None:
        return False
    if expected == "any" or unit in ("rank", "pct_change"):  # ranks and changes apply to any indicator
        return True
    if expected == "currency":
        return unit in CURRENCIES
    if expected == "percent":
        return unit in ("percent", "pct_change", "pp")
    if expected == "count":
        return unit in ("count", "rank", "number")
    if expected == "index":
        return unit in ("index", "number", "rank")
    if expected == "score":
        return unit in ("score", "number", "rank")
    if expected == "per_100k":
        return unit in ("per_100k", "number")
    return unit == expected or unit == "rank"


def _in_parens(doc: Doc, span: Span) -> bool:
    left = doc_text(doc)[max(0, span.start_char - 12):span.start_char]
    return "(" in left and ")" not in left[left.rfind("("):]


# -- scorers -------------------------------------------------------------------------------------

def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


@dataclass
class LogisticModel:
    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float

    def predict(self, feats: dict[str, float]) -> float:
        return _sigmoid(self.intercept + sum(c * feats.get(f, 0.0) for f, c in zip(self.features, self.coef)))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_dict(cls, data: dict) -> "LogisticModel":
        return cls(tuple(data["features"]), tuple(float(c) for c in data["coef"]), float(data["intercept"]))


class RuleScorer:
    """Baseline: nearest preceding topic-marked subject, else nearest preceding, else carried;
    a value is a claim when it has a subject and an indicator."""

    name = "rules"
    indicator_min_score = 0.15
    threshold = 0.5

    def subject_score(self, f: dict[str, float]) -> float:
        if f["carried"]:
            return 0.3
        if f["before"] and f["nearest_before"]:
            return 0.9 if (f["topic_marker"] or f["subject_marker"]) else 0.8
        if f["before"]:
            return 0.6 if (f["topic_marker"] or f["subject_marker"]) else 0.5
        return 0.2

    def claim_score(self, f: dict[str, float]) -> float:
        has_subject = f["has_subject_in_sentence"] or f["has_carried_subject"]
        return 0.9 if has_subject and f["has_indicator"] and not f["in_boilerplate"] else 0.1

    @staticmethod
    def indicator_score(f: dict[str, float]) -> float:
        """Nearest fitting alias before the value, else the carried one, else the nearest fitting after."""
        if f["carried"]:
            return 0.5 if f["unit_fits"] else 0.0
        if f["before"] and f["nearest_before"]:
            return 0.9 if f["unit_fits"] else 0.2
        if f["before"]:
            return 0.7 if f["unit_fits"] else 0.1
        return 0.4 if f["unit_fits"] else 0.05


class LearnedScorer:
    """Two logistic models trained on gold (kfact train-linker); weights live in a JSON file."""

    name = "learned"

    def __init__(self, subject: LogisticModel, claim: LogisticModel, indicator: LogisticModel | None = None,
                 indicator_min_score: float = RuleScorer.indicator_min_score, threshold: float = RuleScorer.threshold):
        self.subject, self.claim, self.indicator = subject, claim, indicator
        self.indicator_min_score = indicator_min_score
        self.threshold = threshold  # the claim threshold chosen on dev when these weights were fitted

    def subject_score(self, f: dict[str, float]) -> float:
        return self.subject.predict(f)

    def claim_score(self, f: dict[str, float]) -> float:
        return self.claim.predict(f)

    def indicator_score(self, f: dict[str, float]) -> float:
        # Scorer files from before the indicator model fall back to the rules.
        return self.indicator.predict(f) if self.indicator else RuleScorer.indicator_score(f)

    def to_dict(self) -> dict:
        data = {"subject": self.subject.to_dict(), "claim": self.claim.to_dict()}
        if self.indicator:
            data["indicator"] = self.indicator.to_dict()
            data["indicator_min_score"] = self.indicator_min_score
        return data | {"threshold": self.threshold}

    @classmethod
    def from_file(cls, path: str | Path) -> "LearnedScorer":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        indicator = LogisticModel.from_dict(data["indicator"]) if "indicator" in data else None
        return cls(LogisticModel.from_dict(data["subject"]), LogisticModel.from_dict(data["claim"]), indicator,
                   float(data.get("indicator_min_score", RuleScorer.indicator_min_score)),
                   float(data.get("threshold", RuleScorer.threshold)))


# -- the component -------------------------------------------------------------------------------

class ClaimLinker:
    def __init__(self, name: str, indicators: Sequence[IndicatorDef], country_names: dict[str, str],
                 canonical_ids: dict[str, str], scorer, threshold: float,
                 report_editions: ReportEditions | None = None):
        self.name = name
        self.report_editions = report_editions if report_editions is not None else load_report_editions()
        self.indicators = list(indicators)
        self.country_names = country_names
        self.canonical_ids = canonical_ids
        self.scorer = scorer
        self.threshold = threshold
        # Longest alias first, so 민간 부문 투자 wins over 투자.
        self._aliases = sorted(((alias, ind) for ind in self.indicators for alias in ind.aliases),
                               key=lambda pair: -len(pair[0]))

    def __call__(self, doc: Doc) -> Doc:
        doc._.claims = [claim for claim, _ in self.link(doc)]
        return doc

    # Exposed for training and evaluation: each claim with the feature rows that produced it.
    def link(self, doc: Doc, keep_all: bool = False) -> list[tuple[Claim, ValueContext]]:
        doc.user_data[_ENTS_KEY] = _EntityIndex(doc)
        try:
            return self._link(doc, keep_all)
        finally:
            doc.user_data.pop(_ENTS_KEY, None)

    def _link(self, doc: Doc, keep_all: bool) -> list[tuple[Claim, ValueContext]]:
        results: list[tuple[Claim, ValueContext]] = []
        carried_subject: SubjectMention | None = None
        carried_indicator: tuple[IndicatorDef, str] | None = None
        carried_year: int | None = None
        boilerplate = doc._.boilerplate or []
        seen: set[tuple] = set()
        for sentence in doc.sents:
            if "\n" in doc_text(doc)[max(0, sentence.start_char - 2):sentence.start_char + 1] or not sentence.text.strip():
                carried_year = None  # paragraph boundary: the topic (indicator) may go on, the period restarts
            if len(_ents_within(sentence)) > MAX_SENTENCE_ENTITIES:
                continue  # a flattened table or a base64 blob, not a sentence: scoring it is cubic in its entities
            sentence_subjects = self._subjects(doc, sentence)
            sentence_year = self._sentence_year(sentence)
            if sentence_year is not None:
                carried_year = sentence_year
            for ent in _ents_within(sentence):
                if ent.label_ not in VALUE_LABELS or not isinstance(ent._.value, NumericValue) or ent._.value.value is None:
                    continue
                subjects = list(sentence_subjects)
                if carried_subject is not None and not any(s.id == carried_subject.id for s in subjects):
                    subjects.append(SubjectMention(**{**carried_subject.__dict__, "carried": True}))
                ctx = ValueContext(ent, ent._.value, sentence, subjects)
                in_boilerplate = any(a <= ent.start_char < b for a, b in boilerplate)
                if in_boilerplate and not keep_all:
                    continue  # crawl noise (tickers, repeats): never a claim, whatever the scorer says
                chosen, ctx.indicator_candidates = self._indicator_choice(doc, sentence, ent, carried_indicator,
                                                                          self._unit(doc, ent, None))
                indicator, indicator_text = (chosen.indicator, chosen.text) if chosen else (None, "")
                if indicator is not None:
                    carried_indicator = (indicator, indicator_text)  # the topic goes on, claim or not
                year, period_year = self._year_and_period(doc, sentence, ent, carried_year)
                unit = self._unit(doc, ent, indicator)
                ctx.claim_features = claim_features(doc, ctx, indicator, year, unit, in_boilerplate)
                claim_p = self.scorer.claim_score(ctx.claim_features)
                # A claim states a quantity of something: a bare number with no unit (a currency-less
                # "2", an unplaced "31") is not one, whatever the scorer says (GUIDELINE §3).
                if unit in (None, "number") and not keep_all:
                    continue
                if not subjects:
                    continue
                ctx.features = [subject_features(doc, ent, s, ctx) for s in subjects]
                scored = [(self.scorer.subject_score(f), s) for f, s in zip(ctx.features, subjects)]
                subject_p, subject = max(scored, key=lambda pair: pair[0])
                confidence = claim_p * subject_p
                if confidence < self.threshold and not keep_all:
                    continue
                if indicator is None:
                    indicator, indicator_text = _other_indicator(), sentence.text.strip()[:40]
                value = ent._.value
                number = value.value
                if unit == "pct_change" and DECREASE_WORDS.search(doc_text(doc)[ent.end_char:ent.end_char + 20]):
                    number = -abs(number)
                for member in self._coordinated(doc, subject, sentence_subjects):
                    claim = Claim(
                        subject=Subject(text=member.text, type=member.label, id=member.id),
                        indicator=Indicator(id=indicator.id, text=indicator_text),
                        year=year, value=number, unit=unit,
                        value_span=OffsetSpan(start=ent.start_char, end=ent.end_char, text=ent.text),
                        evidence=OffsetSpan(start=sentence.start_char, end=sentence.end_char),
                        approximate=value.approximate, value_max=value.value_max,
                        confidence=round(confidence, 4),
                    )
                    key = (member.id, indicator.id, year, unit, round(number, 6))
                    if key in seen and not keep_all:
                        continue
                    seen.add(key)
                    results.append((claim, ctx))
                carried_subject = subject if not subject.carried else carried_subject
                if period_year is not None:
                    carried_year = period_year  # not a comparison base (전년, "9위에서"): that is a one-off
            topic = [s for s in sentence_subjects if "JX" in _next_token_tag(doc, s.token_end)]
            if topic:
                carried_subject = topic[-1]
        return results

    # -- candidates --------------------------------------------------------------------------------
    def subject_id(self, label: str, text: str) -> str:
        if label == "COUNTRY":
            return self.country_names.get(text, text)
        return self.canonical_ids.get(text, self.canonical_ids.get(text.lower(), text))

    def _subjects(self, doc: Doc, sentence: Span) -> list[SubjectMention]:
        mentions = []
        for e in _ents_within(sentence):
            # News (and KMOU) tag a country acting as an institution ORG; a country name is a country subject.
            label = "COUNTRY" if e.text in self.country_names and e.label_ in ("ORG", "LOCATION", "COUNTRY") else e.label_
            if label in SUBJECT_LABELS:
                mentions.append(SubjectMention(e.start_char, e.end_char, label, e.text,
                                               self.subject_id(label, e.text), e.start, e.end))
        covered = [(m.start, m.end) for m in mentions]
        for token in sentence:
            if token.text in LEXICON_SUBJECTS and not any(a <= token.idx < b for a, b in covered):
                mentions.append(SubjectMention(token.idx, token.idx + len(token.text), "COUNTRY", token.text,
                                               self.country_names.get(token.text, "KR"), token.i, token.i + 1))
        return sorted(mentions, key=lambda m: m.start)

    def _coordinated(self, doc: Doc, subject: SubjectMention, mentions: list[SubjectMention]) -> list[SubjectMention]:
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

    def _indicator_choice(self, doc: Doc, sentence: Span, value: Span, carried,
                          unit: str | None) -> tuple[IndicatorCandidate | None, list[IndicatorCandidate]]:
        candidates = self.indicator_candidates(doc, sentence, value, carried, unit)
        if not candidates:
            return None, candidates
        best = max(candidates, key=lambda c: self.scorer.indicator_score(c.features))
        # Below the scorer's minimum the value keeps indicator `other`, with its sentence text.
        if self.scorer.indicator_score(best.features) < self.scorer.indicator_min_score:
            return None, candidates
        return best, candidates

    def indicator_candidates(self, doc: Doc, sentence: Span, value: Span, carried,
                             unit: str | None) -> list[IndicatorCandidate]:
        text = sentence.text
        offset = sentence.start_char
        candidates: list[IndicatorCandidate] = []
        taken: list[tuple[int, int]] = []
        for alias, ind in self._aliases:  # longest first: 민간 부문 투자 takes the place of 투자
            for match in re.finditer(re.escape(alias), text):
                a, b = offset + match.start(), offset + match.end()
                if any(x < b and a < y for x, y in taken):
                    continue
                taken.append((a, b))
                candidates.append(IndicatorCandidate(ind, alias, a, b))
        if carried is not None and not any(c.indicator.id == carried[0].id for c in candidates):
            candidates.append(IndicatorCandidate(carried[0], carried[1], -1, -1))
        for candidate in candidates:
            candidate.features = indicator_features(doc, value, candidate, candidates, unit)
        return candidates

    @staticmethod
    def _is_period(doc: Doc, ent: Span) -> bool:
        """A DATE that names the period of a figure: has a year, is not day-only (12일 dates events),
        is not a comparison base (전년) and is not a starting point (2005년 이후)."""
        value = ent._.value
        if ent.label_ != "DATE" or not isinstance(value, DateValue) or value.year is None:
            return False
        if value.day is not None and not re.search(r"\d{4}", ent.text):
            return False
        if "전년" in ent.text or SINCE_AFTER.match(doc_text(doc)[ent.end_char:ent.end_char + 8]):
            return False
        return True

    def _sentence_year(self, sentence: Span) -> int | None:
        for ent in _ents_within(sentence):
            if self._is_period(sentence.doc, ent):
                return ent._.value.year
        # "AI 인덱스 보고서 2025에 따르면 ...": the edition names the year after the data.
        return self.report_editions.data_year(sentence.text)

    def _year(self, doc: Doc, sentence: Span, value: Span, carried_year: int | None) -> int | None:
        return self._year_and_period(doc, sentence, value, carried_year)[0]

    def _year_and_period(self, doc: Doc, sentence: Span, value: Span,
                         carried_year: int | None) -> tuple[int | None, int | None]:
        """(the value's year, the period year the sentence is about) — they differ for comparison bases."""
        dates_before = [e for e in _ents_within(sentence) if e.end_char <= value.start_char and self._is_period(doc, e)]
        base = dates_before[-1]._.value.year if dates_before else self._sentence_year(sentence)
        base = base if base is not None else carried_year
        # 전년(13억9000만 달러), 전년동기 1790만 유로에서: the comparison base is the year before.
        left = doc_text(doc)[max(sentence.start_char, value.start_char - 12):value.start_char]
        if PREVIOUS_PERIOD_BEFORE.search(left):
            return (base - 1 if base is not None else None), base
        # "9위에서 11위로", "13억 달러에서 15억 달러로": with one period named, the start is the one before.
        if base is not None and FROM_BEFORE_TO.match(doc_text(doc)[value.end_char:value.end_char + 24]):
            return base - 1, base
        # A plan or announcement with no target year takes the year it was announced (GUIDELINE §3).
        if base is None and doc._.published is not None and PLAN_WORDS.search(sentence.text):
            return doc._.published.year, doc._.published.year
        return base, base

    def _unit(self, doc: Doc, value: Span, indicator: IndicatorDef | None) -> str | None:
        unit = value._.value.unit
        if value.label_ == "PERCENT":
            after = doc_text(doc)[value.end_char:value.end_char + 14]
            before = doc_text(doc)[max(0, value.start_char - 8):value.start_char]
            if unit == "percent" and (CHANGE_WORDS.match(after) or COMPARISON_BEFORE.search(before)):
                return "pct_change"
            return unit
        if unit == "number" and indicator is not None and indicator.unit in ("index", "score", "per_100k"):
            return indicator.unit
        return unit


def _other_indicator() -> IndicatorDef:
    return IndicatorDef("other", "기타", (), "any")


def load_canonical_ids(path: str | Path) -> dict[str, str]:
    with open(path, "rb") as handle:
        table = tomllib.load(handle)
    ids: dict[str, str] = {}
    for canonical, aliases in [*table.get("aliases", {}).items(), *table.get("models", {}).items()]:
        ids[canonical] = canonical
        for alias in aliases:
            ids[alias] = canonical
    return ids


@Language.factory(
    "kfact_linker",
    requires=["doc.ents", "span._.value"],
    assigns=["doc._.claims"],
    default_config={"indicators_path": "configs/indicators.toml", "countries_path": "configs/countries.toml",
                    "entities_path": "configs/entities.toml", "scorer_path": "models/kfact-linker/scorer.json",
                    "threshold": None},
)
def make_claim_linker(nlp: Language, name: str, indicators_path: str, countries_path: str, entities_path: str,
                      scorer_path: str, threshold: float | None) -> ClaimLinker:
    from pipeline.nlp import resolve_path

    missing = [c for c in ("kfact_ner", "kfact_normalize") if c not in nlp.pipe_names]
    if missing:
        raise ValueError(f"kfact_linker needs {missing} earlier in the pipeline (it links normalized entities)")
    indicators_path, countries_path, entities_path = map(resolve_path, (indicators_path, countries_path, entities_path))
    scorer_path = str(resolve_path(scorer_path)) if scorer_path else ""
    if scorer_path and not Path(scorer_path).is_file():
        raise FileNotFoundError(f"kfact_linker: scorer file {scorer_path} not found (set scorer_path = \"\" for rules only)")
    scorer = LearnedScorer.from_file(scorer_path) if scorer_path else RuleScorer()
    if threshold is None:
        threshold = scorer.threshold
    canonical = load_canonical_ids(entities_path) if Path(entities_path).is_file() else {}
    return ClaimLinker(name, load_indicators(indicators_path), load_country_names(countries_path), canonical,
                       scorer, threshold)
