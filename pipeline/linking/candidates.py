"""What a value may be linked to: subject, indicator and year candidates, each with its feature row.

Subjects: the subject entities of the value's sentence, lexicon words (국내 → KR), subjects named up to
`carry_sentences` sentences back, the last subject of the paragraph before, and the implicit national
subject (KR) of a Korean release that names none. Indicators: every taxonomy entry (by its aliases in the
text, the topic carried from the values before, and the semantic similarity of its description to the
value's context) plus `other`. Years: the periods of the sentence, the paragraph's and the article's frame,
`published` and the year before, each also as "the year before it" for comparison bases, and null.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from spacy.tokens import Doc, Span

from pipeline.extensions import doc_text
from pipeline.linking.entity_index import entity_index, ents_within
from pipeline.linking.periods import FROM_BEFORE_TO, PLAN_WORDS, PREVIOUS_PERIOD_BEFORE, SINCE_AFTER, is_period
from pipeline.linking.subjects import SubjectMention, next_token_tag
from pipeline.linking.taxonomy import IndicatorDef
from pipeline.linking.units import unit_compatible
from pipeline.schema import VALUE_LABELS

IMPLICIT_ID, IMPLICIT_LABEL = "KR", "COUNTRY"
SUBJECT_LABEL_FEATURES = ("COUNTRY", "ORG", "MODEL", "LOCATION", "PERSON")


# -- subjects ---------------------------------------------------------------------------------------

@dataclass
class SubjectCandidate:
    mention: SubjectMention
    source: str  # sentence | carried | previous_paragraph | document | implicit
    sentences_back: int = 0
    in_lede: bool = False
    features: dict[str, float] = field(default_factory=dict)


def subject_features(doc: Doc, value: Span, candidate: SubjectCandidate, in_sentence: list[SubjectMention],
                     mention_counts: dict[str, int], last_subject_id: str | None) -> dict[str, float]:
    m = candidate.mention
    local = candidate.source == "sentence"
    before = local and m.end <= value.start_char
    after = local and m.start >= value.end_char
    if local:
        lo, hi = (m.token_end, value.start) if before else (value.end, m.token_start)
        between = entity_index(doc).starting_in(lo, hi)
        values_between = sum(1 for e in between if e.label_ in VALUE_LABELS)
        subjects_between = sum(1 for s in in_sentence if lo <= s.token_start < hi and s is not m)
        distance = value.start_char - m.end if before else m.start - value.end_char
    else:
        values_between = subjects_between = distance = 0
    preceding = [s for s in in_sentence if s.end <= value.start_char]
    following = [s for s in in_sentence if s.start >= value.end_char]
    tag = next_token_tag(doc, m.token_end) if local else ""
    label = m.label
    return {
        "in_sentence": float(local),
        "carried": float(candidate.source == "carried"),
        "previous_paragraph": float(candidate.source == "previous_paragraph"),
        "implicit": float(candidate.source == "implicit"),
        "document": float(candidate.source == "document"),
        "in_lede": float(candidate.in_lede),
        "log_sentences_back": math.log1p(candidate.sentences_back),
        "before": float(before),
        "after": float(after),
        "log_char_distance": math.log1p(max(0, distance)) if local else 0.0,
        "nearest_before": float(bool(preceding) and max(preceding, key=lambda s: s.end) is m),
        "nearest_after": float(bool(following) and min(following, key=lambda s: s.start) is m),
        "topic_marker": float("JX" in tag),
        "subject_marker": float("JKS" in tag),
        "genitive": float("JKG" in tag),
        "log_values_between": math.log1p(values_between),
        "subjects_between": float(subjects_between),
        **{f"is_{name.lower()}": float(label == name) for name in SUBJECT_LABEL_FEATURES},
        "lexicon_word": float(m.lexicon_word),
        "compound_head": float(m.compound_head),
        "value_in_parens": float(in_parens(doc, value)),
        "log_mentions": math.log1p(mention_counts.get(m.id, 0)),
        "first_in_sentence": float(local and bool(in_sentence) and in_sentence[0] is m),
        "last_subject": float(last_subject_id is not None and m.id == last_subject_id),
        "sentence_has_subjects": float(bool(in_sentence)),
        "preceded_in_sentence": float(not local and bool(preceding)),
        "is_kr": float(m.id == "KR"),
        "is_government": float(m.government),
        "announcer": float(m.announcer),
    }


SUBJECT_FEATURES = (
    "in_sentence", "carried", "previous_paragraph", "implicit", "document", "in_lede", "log_sentences_back", "before", "after",
    "log_char_distance", "nearest_before", "nearest_after", "topic_marker", "subject_marker", "genitive",
    "log_values_between", "subjects_between", *(f"is_{n.lower()}" for n in SUBJECT_LABEL_FEATURES),
    "lexicon_word", "compound_head", "value_in_parens", "log_mentions", "first_in_sentence", "last_subject",
    "sentence_has_subjects", "preceded_in_sentence", "is_kr", "is_government", "announcer")


def subject_type(candidate: SubjectCandidate) -> str:
    """The candidate's type for the ranker's context vectors: where it comes from and what it is."""
    m = candidate.mention
    return f"{candidate.source}|{m.label}{'-government' if m.government else ''}"


def implicit_subject() -> SubjectMention:
    return SubjectMention(-1, -1, IMPLICIT_LABEL, "", IMPLICIT_ID, -1, -1)


# -- indicators -------------------------------------------------------------------------------------

INDICATOR_FEATURES = (
    "is_other",
    "sim_local", "sim_sentence", "sim_previous", "sim_heading",
    "gap_local", "gap_sentence", "gap_previous", "gap_heading",
    "top1_local", "top3_local", "top1_sentence", "top3_sentence", "top1_previous",
    "carried_top1_previous", "carried_no_local_alias",
    "alias_local", "alias_sentence", "alias_before", "log_alias_distance", "alias_length",
    "carried", "carried_previous_paragraph", "unit_fits", "unit_misfit", "expects_any",
    "other_has_alias", "other_unit_misfit_best",
    "knn_vote", "knn_nearest", "knn_best_sim",

)


def alias_hits(text: str, offset: int, aliases: Sequence[tuple[str, int]]) -> list[tuple[int, int, int]]:
    """(indicator index, start, end) of every alias match, longest first, matches never overlapping."""
    found, taken = [], []
    for alias, k in aliases:
        # str.find, not a regex per alias: this runs for every value against every alias (most never occur)
        start = text.find(alias) if alias else -1
        while start >= 0:
            a, b = offset + start, offset + start + len(alias)
            if not any(x < b and a < y for x, y in taken):
                taken.append((a, b))
                found.append((k, a, b))
            start = text.find(alias, start + len(alias))
    return found


def _top(values: np.ndarray, n: int) -> np.ndarray:
    if not values.any():
        return np.zeros_like(values)
    cut = np.sort(values)[-min(n, len(values))]
    return (values >= cut).astype(np.float32)


def indicator_matrix(indicators: Sequence[IndicatorDef], sims: dict[str, np.ndarray], hits_sentence, hits_local,
                     value: Span, unit: str | None, carried: int | None, carried_previous: int | None) -> np.ndarray:
    """[K + 1, len(INDICATOR_FEATURES)]: one row per taxonomy indicator, the last row for `other`."""
    k = len(indicators)
    x = np.zeros((k + 1, len(INDICATOR_FEATURES)), dtype=np.float32)
    col = {name: i for i, name in enumerate(INDICATOR_FEATURES)}
    for kind in ("local", "sentence", "previous", "heading"):
        s = sims[kind]
        x[:k, col[f"sim_{kind}"]] = s
        x[:k, col[f"gap_{kind}"]] = s - s.max() if s.any() else 0.0
    x[:k, col["top1_local"]] = _top(sims["local"], 1)
    x[:k, col["top3_local"]] = _top(sims["local"], 3)
    x[:k, col["top1_sentence"]] = _top(sims["sentence"], 1)
    x[:k, col["top3_sentence"]] = _top(sims["sentence"], 3)
    for index, a, b in hits_local:
        x[index, col["alias_local"]] = 1.0
    for index, a, b in hits_sentence:
        x[index, col["alias_sentence"]] = 1.0
        if b <= value.start_char:
            distance = math.log1p(value.start_char - b)
            if not x[index, col["alias_before"]] or distance < x[index, col["log_alias_distance"]]:
                x[index, col["alias_before"]] = 1.0
                x[index, col["log_alias_distance"]] = distance
        x[index, col["alias_length"]] = max(x[index, col["alias_length"]], min(b - a, 12) / 12.0)
    x[:k, col["top1_previous"]] = _top(sims["previous"], 1)
    if carried is not None:
        x[carried, col["carried"]] = 1.0
        # "투자 규모 순위도 9위에서 11위로": a value whose own words name nothing continues the topic before it
        x[carried, col["carried_top1_previous"]] = x[carried, col["top1_previous"]]
        x[carried, col["carried_no_local_alias"]] = float(not hits_local)
    if carried_previous is not None:
        x[carried_previous, col["carried_previous_paragraph"]] = 1.0
    fits = np.array([unit_compatible(ind.unit, unit) for ind in indicators], dtype=np.float32)
    x[:k, col["unit_fits"]] = fits
    x[:k, col["unit_misfit"]] = 1.0 - fits
    x[:k, col["expects_any"]] = [float(ind.unit == "any") for ind in indicators]
    # `other`: competes through its own evidence, how well the best indicator fits, and whether any alias is there
    x[k, col["is_other"]] = 1.0
    x[k, col["other_has_alias"]] = float(bool(hits_sentence))
    best = int(np.argmax(sims["local"])) if sims["local"].any() else 0
    x[k, col["other_unit_misfit_best"]] = 1.0 - fits[best] if k else 0.0
    return x


KNN_NEIGHBOURS = 10


class ContextMemory:
    """The training claims' contexts (e5, local and sentence) and indicators: the nearest ones vote for the
    indicator of a new value (an indicator row's knn_* columns). During training a value's own article is left
    out, so the ranker learns how much to trust neighbours from other articles."""

    def __init__(self, contexts: np.ndarray, labels: np.ndarray, articles: Sequence[str]):
        self.contexts = contexts.astype(np.float32)  # [n, 2 * hidden], each half unit-length
        self.labels = labels.astype(np.int64)  # indicator row (K = other)
        self.articles = np.asarray(articles)

    def fill(self, x: np.ndarray, context: np.ndarray, exclude_article: str | None = None) -> None:
        if not len(self.contexts) or context is None:
            return
        col = {name: i for i, name in enumerate(INDICATOR_FEATURES)}
        sims = self.contexts @ context.astype(np.float32) / 2.0  # mean of the two halves' cosines
        if exclude_article is not None:
            sims = np.where(self.articles == exclude_article, -np.inf, sims)
        order = np.argsort(-sims)[:KNN_NEIGHBOURS]
        order = order[np.isfinite(sims[order])]
        if not len(order):
            return
        for rank, i in enumerate(order):
            label = self.labels[i]
            if label >= len(x) - 1:
                continue  # `other` is what is left over, not a topic a neighbour can vouch for
            x[label, col["knn_vote"]] += float(sims[i]) / KNN_NEIGHBOURS
            x[label, col["knn_best_sim"]] = max(x[label, col["knn_best_sim"]], float(sims[i]))
            if rank == 0:
                x[label, col["knn_nearest"]] = 1.0


# -- years ------------------------------------------------------------------------------------------

YEAR_SOURCES = ("sentence_before", "sentence_after", "edition", "paragraph", "carried", "article", "published",
                "published_before", "null")
YEAR_FEATURES = (*(f"src_{s}" for s in YEAR_SOURCES), "minus_one", "minus_one_previous_marker",
                 "minus_one_from_to", "previous_marker", "from_to", "log_distance", "nearest_date",
                 "has_month", "has_quarter", "relative", "plan_published", "sentence_has_period",
                 "matches_paragraph", "matches_article", "since_after", "range_start", "range_end")


def year_type(candidate: "YearCandidate") -> str:
    return f"{candidate.source}|{int(candidate.minus_one)}"


@dataclass
class YearCandidate:
    year: int | None
    source: str
    minus_one: bool = False
    date: Span | None = None
    features: dict[str, float] = field(default_factory=dict)


def year_candidates(doc: Doc, sentence: Span, value: Span, paragraph_year: int | None, carried_year: int | None,
                    article_year: int | None, edition_year: int | None, published_year: int | None) -> list[YearCandidate]:
    text = doc_text(doc)
    # 전년 is a comparison base, resolved against publication by the normalizer: as a candidate it would
    # offer the publication's year before, where the sentence's own period minus one is meant.
    dates = [e for e in ents_within(sentence) if e.label_ == "DATE" and e._.value is not None
             and getattr(e._.value, "year", None) is not None and "전년" not in e.text]
    periods = [e for e in dates if is_period(doc, e)]
    left = text[max(sentence.start_char, value.start_char - 12):value.start_char]
    previous_marker = bool(PREVIOUS_PERIOD_BEFORE.search(left))
    from_to = bool(FROM_BEFORE_TO.match(text[value.end_char:value.end_char + 24]))
    plan = bool(PLAN_WORDS.search(sentence.text))
    base: list[YearCandidate] = []
    nearest = min(dates, key=lambda e: abs(e.start_char - value.start_char), default=None)
    for e in dates:
        before = e.end_char <= value.start_char
        candidate = YearCandidate(e._.value.year, "sentence_before" if before else "sentence_after", date=e)
        distance = value.start_char - e.end_char if before else e.start_char - value.end_char
        candidate.features = {
            "log_distance": math.log1p(max(0, distance)), "nearest_date": float(e is nearest),
            "has_month": float(e._.value.month is not None), "relative": float(bool(e._.value.relative)),
            "has_quarter": float(e._.value.quarter is not None or e._.value.half is not None),
            "since_after": float(bool(SINCE_AFTER.match(text[e.end_char:e.end_char + 8]))),
        }
        base.append(candidate)
        end_year = getattr(e._.value, "end_year", None)
        if end_year is not None and end_year != e._.value.year:
            # a total or an average over "2011~2020년" is usually about the period's last year
            candidate.features["range_start"] = 1.0
            base.append(YearCandidate(end_year, candidate.source, date=e,
                                      features={**candidate.features, "range_start": 0.0, "range_end": 1.0}))
    for year, source in ((edition_year, "edition"), (paragraph_year, "paragraph"), (carried_year, "carried"),
                         (article_year, "article"), (published_year, "published")):
        if year is not None:
            base.append(YearCandidate(year, source))
    if published_year is not None:
        base.append(YearCandidate(published_year - 1, "published_before"))
    candidates = []
    for candidate in base:
        candidates.append(candidate)
        if candidate.source not in ("published_before",):
            candidates.append(YearCandidate(candidate.year - 1, candidate.source, True, candidate.date,
                                            dict(candidate.features)))
    candidates.append(YearCandidate(None, "null"))
    for c in candidates:
        f = {f"src_{s}": float(c.source == s) for s in YEAR_SOURCES}
        f.update({name: 0.0 for name in YEAR_FEATURES if name not in f})
        f.update(c.features)
        f["minus_one"] = float(c.minus_one)
        f["minus_one_previous_marker"] = float(c.minus_one and previous_marker)
        f["minus_one_from_to"] = float(c.minus_one and from_to)
        f["previous_marker"] = float(previous_marker)
        f["from_to"] = float(from_to)
        f["plan_published"] = float(plan and c.source == "published" and not c.minus_one)
        f["sentence_has_period"] = float(bool(periods))
        f["matches_paragraph"] = float(c.year is not None and c.year == paragraph_year)
        f["matches_article"] = float(c.year is not None and c.year == article_year)
        c.features = f
    return candidates


# -- the value itself -------------------------------------------------------------------------------

CLAIM_FEATURES = (
    "bias", "subject_probability", "indicator_probability", "other_probability", "has_year",
    "is_money", "is_percent", "is_quantity", "unit_rank", "unit_count", "unit_duration", "unit_physical",
    "in_parens", "describes_source", "threshold_after", "streak_after", "log_values_in_sentence",
    "hangul_ratio", "approximate", "short_line", "heading_line", "sentence_has_predicate", "subject_in_sentence",
    "implicit_subject",
)
DURATION_UNITS = {"year", "month", "week", "day", "hour", "minute", "second"}
# "48개국 중", "1,000명을 대상으로": the number describes the source, not a subject.
SOURCE_AFTER = re.compile(r"^\s*(?:을|를|이|가|의)?\s*(?:중|가운데|대상으로|대상|을 대상|를 대상|표본|응답자 중)")
THRESHOLD_AFTER = re.compile(r"^\s*(?:이상|이하|미만|초과|이내)(?:의|인|인\s|\s*[가-힣]{0,6}(?:사업장|기업|가구|근로자|주택))")
STREAK_AFTER = re.compile(r"^\s*(?:연속|째|만에|간\s|동안)")


def claim_features(doc: Doc, value: Span, sentence: Span, unit: str | None, subject_p: float, indicator_p: float,
                   other_p: float, year: int | None, implicit: bool, heading: bool) -> dict[str, float]:
    text = doc_text(doc)
    after = text[value.end_char:value.end_char + 16]
    sentence_text = sentence.text
    hangul = sum(1 for ch in sentence_text if "\uac00" <= ch <= "\ud7a3")
    values_in_sentence = sum(1 for e in ents_within(sentence) if e.label_ in VALUE_LABELS)
    return {
        "bias": 1.0,
        "subject_probability": subject_p,
        "indicator_probability": indicator_p,
        "other_probability": other_p,
        "has_year": float(year is not None),
        "is_money": float(value.label_ == "MONEY"),
        "is_percent": float(value.label_ == "PERCENT"),
        "is_quantity": float(value.label_ == "QUANTITY"),
        "unit_rank": float(unit == "rank"),
        "unit_count": float(unit == "count"),
        "unit_duration": float(unit in DURATION_UNITS),
        "unit_physical": float(unit not in (None, "count", "rank", "percent", "pct_change", "pp", "number")
                               and unit not in DURATION_UNITS and not (unit or "").isupper()),
        "in_parens": float(in_parens(doc, value)),
        "describes_source": float(bool(SOURCE_AFTER.match(after))),
        "threshold_after": float(bool(THRESHOLD_AFTER.match(after))),
        "streak_after": float(bool(STREAK_AFTER.match(after))),
        "log_values_in_sentence": math.log1p(values_in_sentence),
        "hangul_ratio": hangul / max(1, len(sentence_text)),
        "approximate": float(bool(value._.value.approximate)),
        "short_line": float(len(sentence_text.strip()) < 25),
        "heading_line": float(heading),
        "sentence_has_predicate": float(any("EF" in t.tag_ or "EC" in t.tag_ or "ETM" in t.tag_ for t in sentence)),
        "subject_in_sentence": float(subject_p > 0 and not implicit),
        "implicit_subject": float(implicit),
    }


def in_parens(doc: Doc, span: Span) -> bool:
    left = doc_text(doc)[max(0, span.start_char - 12):span.start_char]
    return "(" in left and ")" not in left[left.rfind("("):]
