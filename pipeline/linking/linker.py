"""The relation step: each value entity -> (subject, indicator, year, unit) claims.

Candidates come from rules (entities in the sentence, the subject carried from the previous
sentence, lexicon words such as 국내/우리나라); which subject a value belongs to, and whether a
value is a claim at all, is scored by a model learned from the gold annotations
(`kfact train-linker`), with a rules-only scorer as the baseline. The pieces live beside this module:
subjects, candidates (indicators), periods (years), units, features and scorers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from spacy.tokens import Doc, Span

from pipeline.extensions import doc_text
from pipeline.linking.candidates import AliasIndex, IndicatorCandidate
from pipeline.linking.entity_index import ents_within, indexed_entities
from pipeline.linking.features import claim_features, indicator_features, subject_features
from pipeline.linking.periods import sentence_year, year_and_period
from pipeline.linking.scorers import LearnedScorer, RuleScorer
from pipeline.linking.subjects import (SubjectLexicon, SubjectMention, coordinated, load_canonical_ids,
                                       next_token_tag, sentence_subjects)
from pipeline.linking.taxonomy import (IndicatorDef, ReportEditions, load_country_names, load_indicators,
                                       load_report_editions)
from pipeline.linking.units import signed_number, value_unit
from pipeline.normalize import NumericValue
from pipeline.schema import SUBJECT_LABELS, VALUE_LABELS, Claim, Indicator, Subject, covers
from pipeline.schema import Span as OffsetSpan

OTHER = IndicatorDef("other", "기타", (), "any")


@dataclass
class ValueContext:
    span: Span
    value: NumericValue
    sentence: Span
    subjects: list[SubjectMention]
    features: list[dict[str, float]] = field(default_factory=list)
    claim_features: dict[str, float] = field(default_factory=dict)
    indicator_candidates: list[IndicatorCandidate] = field(default_factory=list)


@dataclass
class LinkerConfig:
    """[components.kfact_linker] of configs/pipeline.cfg; relative paths resolve from the project."""

    indicators_path: str = "configs/indicators.toml"
    countries_path: str = "configs/countries.toml"
    entities_path: str = "configs/entities.toml"
    scorer_path: str = "models/kfact-linker/scorer.json"
    threshold: float | None = None  # None: the one chosen on dev when the scorer was trained
    subject_labels: Sequence[str] = ("COUNTRY", "ORG", "MODEL")
    lexicon_subjects: Sequence[str] = ("국내", "우리나라", "우리 정부", "우리")
    # News sentences carry a handful of entities; hostile input (a 5,000-char line without a full stop) can
    # carry hundreds, and every value is scored against every subject with features that scan the sentence.
    max_sentence_entities: int = 64


class ClaimLinker:
    def __init__(self, name: str, indicators: Sequence[IndicatorDef], lexicon: SubjectLexicon, scorer,
                 threshold: float, report_editions: ReportEditions, max_sentence_entities: int = 64):
        self.name = name
        self.indicators = list(indicators)
        self.lexicon = lexicon
        self.scorer = scorer
        self.threshold = threshold
        self.report_editions = report_editions
        self.max_sentence_entities = max_sentence_entities
        self.aliases = AliasIndex(self.indicators)

    def __call__(self, doc: Doc) -> Doc:
        doc._.claims = [claim for claim, _ in self.link(doc)]
        return doc

    # Exposed for training and evaluation: each claim with the feature rows that produced it.
    def link(self, doc: Doc, keep_all: bool = False) -> list[tuple[Claim, ValueContext]]:
        with indexed_entities(doc):
            return self._link(doc, keep_all)

    def _link(self, doc: Doc, keep_all: bool) -> list[tuple[Claim, ValueContext]]:
        results: list[tuple[Claim, ValueContext]] = []
        carried_subject: SubjectMention | None = None
        carried_indicator: tuple[IndicatorDef, str] | None = None
        carried_year: int | None = None
        noise = doc._.noise or []
        seen: set[tuple] = set()
        for sentence in doc.sents:
            if "\n" in doc_text(doc)[max(0, sentence.start_char - 2):sentence.start_char + 1] or not sentence.text.strip():
                carried_year = None  # paragraph boundary: the topic (indicator) may go on, the period restarts
            if len(ents_within(sentence)) > self.max_sentence_entities:
                continue  # a flattened table or a base64 blob, not a sentence: scoring it is cubic in its entities
            mentions = sentence_subjects(sentence, self.lexicon)
            period = sentence_year(sentence, self.report_editions)
            if period is not None:
                carried_year = period
            for ent in ents_within(sentence):
                if ent.label_ not in VALUE_LABELS or not isinstance(ent._.value, NumericValue) or ent._.value.value is None:
                    continue
                subjects = list(mentions)
                if carried_subject is not None and not any(s.id == carried_subject.id for s in subjects):
                    subjects.append(SubjectMention(**{**carried_subject.__dict__, "carried": True}))
                ctx = ValueContext(ent, ent._.value, sentence, subjects)
                in_boilerplate = covers(noise, ent.start_char)
                if in_boilerplate and not keep_all:
                    continue  # crawl noise (tickers, repeats): never a claim, whatever the scorer says
                chosen, ctx.indicator_candidates = self._indicator_choice(doc, sentence, ent, carried_indicator,
                                                                          value_unit(doc, ent, None))
                indicator, indicator_text = (chosen.indicator, chosen.text) if chosen else (None, "")
                if indicator is not None:
                    carried_indicator = (indicator, indicator_text)  # the topic goes on, claim or not
                year, period_year = year_and_period(doc, sentence, ent, carried_year, self.report_editions)
                unit = value_unit(doc, ent, indicator)
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
                    indicator, indicator_text = OTHER, sentence.text.strip()[:40]
                value = ent._.value
                number = signed_number(doc, ent, unit, value.value)
                for member in coordinated(doc, subject, mentions):
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
            topic = [s for s in mentions if "JX" in next_token_tag(doc, s.token_end)]
            if topic:
                carried_subject = topic[-1]
        return results

    def _indicator_choice(self, doc: Doc, sentence: Span, value: Span, carried,
                          unit: str | None) -> tuple[IndicatorCandidate | None, list[IndicatorCandidate]]:
        candidates = self.aliases.candidates(sentence, carried)
        for candidate in candidates:
            candidate.features = indicator_features(doc, value, candidate, candidates, unit)
        if not candidates:
            return None, candidates
        best = max(candidates, key=lambda c: self.scorer.indicator_score(c.features))
        # Below the scorer's minimum the value keeps indicator `other`, with its sentence text.
        if self.scorer.indicator_score(best.features) < self.scorer.indicator_min_score:
            return None, candidates
        return best, candidates


def build_linker(config: LinkerConfig | None = None, name: str = "kfact_linker", scorer=None) -> ClaimLinker:
    """The one place a linker is built: lexicons and taxonomy from the config's files, the scorer from
    `scorer_path` ("" = rules only) unless one is given."""
    from pipeline.paths import resolve_path

    config = config or LinkerConfig()
    unknown = set(config.subject_labels) - set(SUBJECT_LABELS)
    if unknown:
        raise ValueError(f"kfact_linker: subject_labels {sorted(unknown)} are not subject labels {SUBJECT_LABELS}")
    indicators_path, countries_path, entities_path = map(
        resolve_path, (config.indicators_path, config.countries_path, config.entities_path))
    if scorer is None:
        scorer_path = resolve_path(config.scorer_path) if config.scorer_path else None
        if scorer_path is not None and not Path(scorer_path).is_file():
            raise FileNotFoundError(f"kfact_linker: scorer file {scorer_path} not found "
                                    f"(set scorer_path = \"\" for rules only)")
        scorer = LearnedScorer.from_file(scorer_path) if scorer_path else RuleScorer()
    threshold = config.threshold if config.threshold is not None else scorer.threshold
    canonical = load_canonical_ids(entities_path) if Path(entities_path).is_file() else {}
    lexicon = SubjectLexicon(load_country_names(countries_path), canonical, tuple(config.subject_labels),
                             tuple(config.lexicon_subjects))
    return ClaimLinker(name, load_indicators(indicators_path), lexicon, scorer, threshold,
                       load_report_editions(indicators_path), config.max_sentence_entities)
