"""Feature rows the linker's scorers read: one per (value, subject candidate), one per (value, indicator
candidate) and one per value (is it a claim at all?). Pure functions of the Doc and the candidates."""
from __future__ import annotations

import math

from spacy.tokens import Doc, Span

from pipeline.extensions import doc_text
from pipeline.linking.candidates import IndicatorCandidate
from pipeline.linking.entity_index import entity_index, ents_within
from pipeline.linking.subjects import SubjectMention, next_token_tag
from pipeline.linking.taxonomy import IndicatorDef
from pipeline.linking.units import unit_compatible
from pipeline.schema import VALUE_LABELS

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



def subject_features(doc: Doc, value: Span, subject: SubjectMention, ctx) -> dict[str, float]:
    before = subject.end <= value.start_char
    distance = abs(value.start - subject.token_end) if before else abs(subject.token_start - value.end)
    lo, hi = (subject.token_end, value.start) if before else (value.end, subject.token_start)
    values_between = sum(1 for e in entity_index(doc).starting_in(lo, hi) if e.label_ in VALUE_LABELS)
    subjects_between = sum(1 for s in ctx.subjects if not s.carried and lo <= s.token_start < hi and s is not subject)
    preceding = [s for s in ctx.subjects if not s.carried and s.end <= value.start_char]
    nearest_before = bool(preceding) and max(preceding, key=lambda s: s.end) is subject
    in_sentence = [s for s in ctx.subjects if not s.carried]
    nearest_any = bool(in_sentence) and min(
        in_sentence, key=lambda s: min(abs(s.end - value.start_char), abs(s.start - value.end_char))) is subject
    tag = "" if subject.carried else next_token_tag(doc, subject.token_end)
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
        "value_in_parens": float(in_parens(doc, value)),
        "lexicon": float(subject.label == "COUNTRY" and subject.lexicon_word and not subject.carried),
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
        "values_between": 0.0 if carried else float(sum(1 for e in entity_index(doc).starting_in_chars(lo, hi)
                                                        if e.label_ in VALUE_LABELS)),
        "alias_length": min(len(candidate.text), 12) / 12.0,
        "comma_between": 0.0 if carried else float("," in doc_text(doc)[lo:hi]),
        "unit_is_currency_fit": float(fits and expected == "currency"),
        "unit_is_count_fit": float(fits and expected == "count"),
        "unit_is_percent_fit": float(fits and expected == "percent"),
        "expects_any": float(expected == "any"),
    }


def claim_features(doc: Doc, ctx, indicator: IndicatorDef | None, year: int | None,
                   unit: str | None, boilerplate: bool) -> dict[str, float]:
    sentence = ctx.sentence
    text = sentence.text
    hangul = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3")
    values_in_sentence = sum(1 for e in ents_within(sentence) if e.label_ in VALUE_LABELS)
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
        "in_parens": float(in_parens(doc, ctx.span)),
        "sentence_has_predicate": float(any(t.tag_.endswith(("EF", "EC", "ETM")) or "+EF" in t.tag_ or "+EC" in t.tag_
                                            for t in sentence)),
        "values_in_sentence_log": math.log1p(values_in_sentence),
        "hangul_ratio": hangul / max(1, len(text)),
        "approximate": float(ctx.value.approximate),
        "short_line": float(len(text.strip()) < 25),
        "in_boilerplate": float(boilerplate),
    }



def in_parens(doc: Doc, span: Span) -> bool:
    left = doc_text(doc)[max(0, span.start_char - 12):span.start_char]
    return "(" in left and ")" not in left[left.rfind("("):]

