"""The relation step: each value entity -> (subject, indicator, year, unit) claims.

For every value the linker builds its candidate sets (pipeline/linking/candidates.py) in the document's
frame (frame.py), with the semantic similarity of the value's context to every indicator (semantic.py),
and lets a scorer (scorers.py) choose among them: a learned ranker per set and a claim/not-claim model, or
the rules-only baseline. What it chose carries on: the subject and the topic to the next sentences, the
period through the paragraph. Units and signs are spelling facts (units.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from spacy.tokens import Doc, Span

from pipeline.extensions import doc_text
from pipeline.linking.candidates import (SubjectCandidate, YearCandidate, alias_hits, claim_features,
                                         implicit_subject, indicator_matrix, subject_features, subject_type,
                                         year_candidates, year_type)
from pipeline.linking.entity_index import ents_within, indexed_entities
from pipeline.linking.frame import DocumentFrame, document_frame, is_heading
from pipeline.linking.scorers import LearnedScorer, RuleScorer
from pipeline.linking.semantic import LOCAL_AFTER, LOCAL_BEFORE, IndicatorSemantics, ValueTexts
from pipeline.linking.subjects import (SubjectLexicon, SubjectMention, SubjectIds, coordinated, load_subject_ids,
                                       resolve_short_names, sentence_subjects)
from pipeline.linking.taxonomy import (IndicatorDef, ReportEditions, load_country_names, load_indicators,
                                       load_report_editions, taxonomy_fingerprint)
from pipeline.linking.units import signed_number, value_unit
from pipeline.normalize import NumericValue
from pipeline.schema import SUBJECT_LABELS, VALUE_LABELS, Claim, Indicator, Subject, covers
from pipeline.schema import Span as OffsetSpan

OTHER = IndicatorDef("other", "기타", (), "any")
RESPECTIVELY = re.compile(r"각각|각기")
NOUN_TAGS = ("NNG", "NNP", "NNB", "NR", "SL", "SN", "XSN", "XPN", "SH")


@dataclass
class ValueCase:
    """One value and everything the scorer chooses from: also the unit of a training row."""

    span: Span
    value: NumericValue
    sentence: Span
    unit: str | None
    subjects: list[SubjectCandidate]
    indicator_x: np.ndarray  # [K + 1, features]; the last row is `other`
    years: list[YearCandidate]
    heading: bool
    in_noise: bool
    forced_subject: int | None = None  # 각각: the subject this value is paired with, by position
    alias_spans: list[tuple[int, int, int]] = field(default_factory=list)  # (indicator, start, end) in the sentence
    claim_features: dict[str, float] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # the value's context vectors (e5), by kind

    def context(self) -> np.ndarray | None:
        """The rankers' context: the local and the sentence vector, side by side."""
        if not self.vectors:
            return None
        return np.concatenate([self.vectors["local"], self.vectors["sentence"]]).astype(np.float64)


@dataclass
class Decision:
    subject: int | None  # index into case.subjects
    indicator: int  # index into the indicator rows (K = other)
    year: int  # index into case.years
    claim_probability: float
    subject_probability: float = 0.0
    indicator_probability: float = 0.0


@dataclass
class LinkerConfig:
    """[components.kfact_linker] of configs/pipeline.cfg; relative paths resolve from the project."""

    indicators_path: str = "configs/indicators.toml"
    countries_path: str = "configs/countries.toml"
    entities_path: str = "configs/entities.toml"
    scorer_path: str = "models/kfact-linker/scorer.json"
    threshold: float | None = None  # None: the one chosen on dev when the scorer was trained
    subject_labels: Sequence[str] = ("COUNTRY", "ORG", "MODEL", "LOCATION", "PERSON")
    # word -> "LABEL:id": words that name a subject without being its name (GUIDELINE §3)
    lexicon_subjects: dict[str, str] = field(default_factory=lambda: {
        "국내": "COUNTRY:KR", "전국": "COUNTRY:KR", "우리나라": "COUNTRY:KR", "우리 정부": "COUNTRY:KR", "우리": "COUNTRY:KR",
        "정부": "COUNTRY:KR", "세계": "LOCATION:world", "전 세계": "LOCATION:world", "전세계": "LOCATION:world",
        "글로벌": "LOCATION:world"})
    # News sentences carry a handful of entities; hostile input (a 5,000-char line without a full stop) can
    # carry hundreds, and every value is scored against every subject with features that scan the sentence.
    max_sentence_entities: int = 64
    # The sentence encoder of the semantic indicator features ("" = none: the features are zero).
    encoder_path: str = "models/e5-small-ko"
    carry_sentences: int = 3  # subjects named this many sentences back are candidates
    document_subjects: int = 4  # and this many of the article's most named subjects before the value
    # torch, onnx-int8 (the int8 graph `kfact encoder build` exports) or static (the piece table it distils). A
    # scorer is trained on one backend's vectors: models/kfact-linker on torch, models/kfact-linker-static on static.
    encoder_backend: str = "torch"

    @classmethod
    def from_pipeline_config(cls, config_path=None, **overrides) -> "LinkerConfig":
        """The [components.kfact_linker] section of configs/pipeline.cfg, so that training, cross-validation and
        `kfact import` link with the settings production runs (overrides: e.g. scorer_path="" to train)."""
        import spacy

        from pipeline.paths import DEFAULT_CONFIG

        section = dict(spacy.util.load_config(config_path or DEFAULT_CONFIG)["components"]["kfact_linker"])
        section.pop("factory", None)
        section.update(overrides)
        section["subject_labels"] = tuple(section.get("subject_labels", cls.subject_labels))
        return cls(**section)


class ClaimLinker:
    def __init__(self, name: str, indicators: Sequence[IndicatorDef], lexicon: SubjectLexicon, scorer,
                 threshold: float, report_editions: ReportEditions, encoder=None,
                 max_sentence_entities: int = 64, carry_sentences: int = 3, document_subjects: int = 4):
        self.name = name
        # `other` is not a candidate like the rest: it is the last row of every indicator set
        self.indicators = [i for i in indicators if i.id != OTHER.id]
        self.taxonomy = taxonomy_fingerprint(indicators)  # what a trained scorer must have been trained on
        self.lexicon = lexicon
        self.scorer = scorer
        self.threshold = threshold
        self.report_editions = report_editions
        self.semantics = IndicatorSemantics(encoder, self.indicators) if encoder is not None else None
        self.max_sentence_entities = max_sentence_entities
        self.carry_sentences = carry_sentences
        self.document_subjects = document_subjects
        self.exclude_article: str | None = None  # training: the article whose own claims the memory must not offer
        self.aliases = sorted(((a, k) for k, ind in enumerate(self.indicators) for a in ind.aliases),
                              key=lambda pair: -len(pair[0]))  # longest first: 민간 부문 투자 wins over 투자

    # -- serialization: the taxonomy, lexicons and scorer travel with a saved pipeline (the encoder is referenced)
    _SAVED = {"indicators.toml": "indicators_path", "countries.toml": "countries_path",
              "entities.toml": "entities_path", "scorer.json": "scorer_path"}

    def to_disk(self, path, exclude=tuple()) -> None:
        from pipeline.components.saved_files import save_files
        from pipeline.linking.scorers import vectors_path
        from pipeline.paths import resolve_path

        config = getattr(self, "config", None) or LinkerConfig()
        files = {name: resolve_path(getattr(config, field)) if getattr(config, field) else None
                 for name, field in self._SAVED.items()}
        if files["scorer.json"] is not None:
            files["scorer.vectors.npz"] = vectors_path(Path(files["scorer.json"]))
        save_files(path, files)

    def from_disk(self, path, exclude=tuple()) -> "ClaimLinker":
        from dataclasses import replace

        from pipeline.components.saved_files import saved_file

        config = getattr(self, "config", None) or LinkerConfig()
        saved = {field: saved_file(path, name) for name, field in self._SAVED.items()}
        changes = {field: str(file) for field, file in saved.items() if file is not None}
        if not config.scorer_path:
            changes.pop("scorer_path", None)  # a rules-only linker stays one
        rebuilt = build_linker(replace(config, **changes), self.name)
        self.__dict__.update(rebuilt.__dict__)
        return self

    def __call__(self, doc: Doc) -> Doc:
        doc._.claims = [claim for claim, _ in self.link(doc)]
        return doc

    # -- the pass over one document ---------------------------------------------------------------
    def link(self, doc: Doc, keep_all: bool = False,
             decide: Callable[[ValueCase], Decision] | None = None) -> list[tuple[Claim, ValueCase]]:
        """Claims with the case each came from. `decide` replaces the scorer (training walks gold choices);
        `keep_all` keeps values the scorer would drop (noise, no unit, below the threshold)."""
        with indexed_entities(doc):
            return self._link(doc, keep_all, decide or self.decide)

    def _link(self, doc: Doc, keep_all: bool, decide) -> list[tuple[Claim, ValueCase]]:
        frame = document_frame(doc, self.report_editions)
        noise = doc._.noise or []
        per_sentence = []
        for sentence in frame.sentences:
            ents = ents_within(sentence)
            values = [] if len(ents) > self.max_sentence_entities else [
                e for e in ents if e.label_ in VALUE_LABELS and isinstance(e._.value, NumericValue)
                and e._.value.value is not None]
            per_sentence.append((sentence, sentence_subjects(sentence, self.lexicon) if values or ents else [], values))
        resolve_short_names(doc, [m for _, mentions, _ in per_sentence for m in mentions])
        mention_counts: dict[str, int] = {}
        for _, mentions, _ in per_sentence:
            for m in mentions:
                mention_counts[m.id] = mention_counts.get(m.id, 0) + 1
        all_values = [(sentence, v) for sentence, _, values in per_sentence for v in values]
        sims, vectors = self._similarities(doc, frame, all_values)
        results: list[tuple[Claim, ValueCase]] = []
        seen: set[tuple] = set()
        recent: list[tuple[SubjectMention, int]] = []  # (mention, sentence position), newest last
        last_subject: dict[int, SubjectMention] = {}  # paragraph -> the subject of its last claim
        topic: dict[int, tuple[int, str]] = {}  # paragraph -> (indicator, text) of its last value
        carried_year: dict[int, int] = {}
        value_index = 0
        for sentence, mentions, values in per_sentence:
            paragraph = frame.paragraph_of(sentence)
            position = frame.position(sentence)
            forced = respectively_pairs(doc, sentence, mentions, values)
            for ent in values:
                case = self._case(doc, frame, sentence, ent, mentions, recent, position, last_subject, topic,
                                  carried_year, mention_counts, {k: v[value_index] for k, v in sims.items()},
                                  {k: v[value_index] for k, v in vectors.items()})
                value_index += 1
                case.in_noise = covers(noise, ent.start_char)
                if case.in_noise and not keep_all:
                    continue  # crawl noise (tickers, repeats): never a claim, whatever the scorer says
                case.forced_subject = forced.get(ent.start)
                decision = decide(case)
                chosen_topic = self._indicator_text(doc, case, decision, topic.get(paragraph.index))
                if decision.indicator < len(self.indicators):
                    topic[paragraph.index] = (decision.indicator, chosen_topic)  # the topic goes on, claim or not
                year = case.years[decision.year]
                if year.source in ("sentence_before", "sentence_after") and not year.minus_one and year.year:
                    carried_year[paragraph.index] = year.year
                if case.unit in (None, "number") and not keep_all:
                    continue  # a bare number with no unit is not a quantity of anything (GUIDELINE §3)
                if decision.subject is None or (decision.claim_probability < self.threshold and not keep_all):
                    continue
                subject = case.subjects[decision.subject]
                last_subject[paragraph.index] = subject.mention
                members = [subject.mention] if case.forced_subject is not None or subject.source != "sentence" \
                    else coordinated(doc, subject.mention, mentions)
                indicator = self.indicators[decision.indicator] if decision.indicator < len(self.indicators) else OTHER
                number = signed_number(doc, ent, case.unit, case.value.value)
                for member in members:
                    claim = Claim(
                        subject=Subject(text=member.text, type=member.label, id=member.id),
                        indicator=Indicator(id=indicator.id, text=chosen_topic),
                        year=year.year, value=number, unit=case.unit,
                        value_span=OffsetSpan(start=ent.start_char, end=ent.end_char, text=ent.text),
                        evidence=OffsetSpan(start=sentence.start_char, end=sentence.end_char, text=sentence.text),
                        approximate=case.value.approximate, value_max=case.value.value_max,
                        confidence=round(decision.claim_probability, 4), period=claim_period(year),
                    )
                    key = (member.id, indicator.id, year.year, case.unit, round(number, 6))
                    if key in seen and not keep_all:
                        continue
                    seen.add(key)
                    results.append((claim, case))
            for m in mentions:
                recent.append((m, position))
        return results

    # -- claims for relations drawn by hand (kfact import) --------------------------------------
    def claims_for(self, doc: Doc, relations: Sequence[tuple[tuple[int, int], tuple[int, int, str], str]]) -> list[Claim | None]:
        """The claim of each (value span, (subject start, end, label), indicator id) relation, built the way the
        linker builds its own: the year by its year choice in the document's frame, unit, sign and value from
        the value entity, the indicator phrase as it names it. None where the value span is not a value entity."""
        cases: dict[tuple[int, int], tuple[ValueCase, Decision]] = {}

        def record(case: ValueCase) -> Decision:
            decision = self.decide(case)
            cases[(case.span.start_char, case.span.end_char)] = (case, decision)
            return decision

        self.link(doc, keep_all=True, decide=record)
        index = {ind.id: k for k, ind in enumerate(self.indicators)}
        claims: list[Claim | None] = []
        for (value_start, value_end), (subject_start, subject_end, subject_label), indicator_id in relations:
            found = next(((c, d) for (a, b), (c, d) in cases.items() if a < value_end and value_start < b), None)
            if found is None:
                claims.append(None)
                continue
            case, decision = found
            k = index.get(indicator_id, len(self.indicators))
            drawn = Decision(decision.subject, k, decision.year, 1.0)
            text = doc_text(doc)[subject_start:subject_end]
            label = self.lexicon.subject_label(subject_label, text)
            year = case.years[decision.year]
            claims.append(Claim(
                subject=Subject(text=text, type=label, id=self.lexicon.subject_id(label, text)),
                indicator=Indicator(id=indicator_id, text=self._indicator_text(doc, case, drawn, None)),
                year=year.year, value=signed_number(doc, case.span, case.unit, case.value.value), unit=case.unit,
                value_span=OffsetSpan(start=case.span.start_char, end=case.span.end_char, text=case.span.text),
                evidence=OffsetSpan(start=case.sentence.start_char, end=case.sentence.end_char,
                                    text=case.sentence.text),
                approximate=case.value.approximate, value_max=case.value.value_max, period=claim_period(year)))
        return claims

    def _similarities(self, doc: Doc, frame: DocumentFrame, values: list[tuple[Span, Span]]):
        k = len(self.indicators)
        if self.semantics is None or not values:
            zeros = np.zeros((len(values), k), dtype=np.float32)
            return {kind: zeros for kind in ("local", "sentence", "previous", "heading")}, {}
        # The same Doc linked again (training walks, evaluation with two scorers) reuses its encoder pass.
        key = ("kfact_linker_similarities", self.semantics.fingerprint, tuple(v.start_char for _, v in values))
        cached = doc.user_data.get(key)
        if cached is None:
            cached = doc.user_data[key] = self.semantics.similarities(
                [value_texts(doc, frame, s, v) for s, v in values])
        return cached

    def _case(self, doc, frame, sentence, ent, mentions, recent, position, last_subject, topic, carried_year,
              mention_counts, sims, vectors) -> ValueCase:
        paragraph = frame.paragraph_of(sentence)
        unit = value_unit(doc, ent, None)
        # subjects: the sentence's, those named a few sentences back in the paragraph, the paragraph before's, implicit
        candidates = [SubjectCandidate(m, "sentence") for m in mentions]
        taken = {m.id for m in mentions}
        paragraph_start = frame.position(paragraph.sentences[0])
        for m, at in reversed(recent):
            if at >= paragraph_start and position - at <= self.carry_sentences and m.id not in taken:
                candidates.append(SubjectCandidate(_carried(m), "carried", position - at))
                taken.add(m.id)
        previous = last_subject.get(paragraph.index - 1)
        if previous is not None and previous.id not in taken:
            candidates.append(SubjectCandidate(_carried(previous), "previous_paragraph", 1))
            taken.add(previous.id)
        # the article's main actors, however far back: a ministry named in the lede owns its programme's figures
        earlier: dict[str, tuple[SubjectMention, int]] = {}
        for m, at in recent:
            if m.id not in taken and m.id not in earlier:
                earlier[m.id] = (m, at)
        ranked = sorted(earlier.values(), key=lambda ma: (-mention_counts.get(ma[0].id, 0), -ma[1]))
        for m, at in ranked[:self.document_subjects]:
            candidates.append(SubjectCandidate(_carried(m), "document", position - at, in_lede=at < 3))
        candidates.append(SubjectCandidate(implicit_subject(), "implicit"))
        last = last_subject.get(paragraph.index) or previous
        for c in candidates:
            c.features = subject_features(doc, ent, c, mentions, mention_counts, last.id if last else None)
        # indicators
        local_start = max(sentence.start_char, ent.start_char - LOCAL_BEFORE)
        local_end = min(sentence.end_char, ent.end_char + LOCAL_AFTER)
        hits = alias_hits(sentence.text, sentence.start_char, self.aliases)
        local_hits = [h for h in hits if local_start <= h[1] and h[2] <= local_end]
        carried = topic.get(paragraph.index)
        carried_previous = topic.get(paragraph.index - 1)
        x = indicator_matrix(self.indicators, sims, hits, local_hits, ent, unit,
                             carried[0] if carried else None, carried_previous[0] if carried_previous else None)
        memory = getattr(self.scorer, "memory", None)
        if memory is not None and vectors:
            memory.fill(x, np.concatenate([vectors["local"], vectors["sentence"]]), self.exclude_article)
        # years
        years = year_candidates(doc, sentence, ent, paragraph.year, carried_year.get(paragraph.index),
                                frame.article_year, self.report_editions.data_year(sentence.text),
                                frame.published_year)
        heading = len(paragraph.sentences) == 1 and is_heading(sentence.text)
        return ValueCase(ent, ent._.value, sentence, unit, candidates, x, years, heading, False,
                         alias_spans=hits, vectors=vectors)

    # -- choosing ---------------------------------------------------------------------------------
    @property
    def indicator_types(self) -> list[str]:
        return [i.id for i in self.indicators] + [OTHER.id]

    def decide(self, case: ValueCase) -> Decision:
        scorer = self.scorer
        context = case.context()
        subject_scores = scorer.subjects([c.features for c in case.subjects], [subject_type(c) for c in case.subjects],
                                         context)
        if case.forced_subject is not None:
            subject = case.forced_subject
        else:
            subject = int(np.argmax(subject_scores)) if len(subject_scores) else None
            if subject is not None and subject_scores[subject] <= 0:
                subject = None  # the rules found nobody named
        indicator_scores = scorer.indicators(case.indicator_x, self.indicator_types, context)
        indicator = int(np.argmax(indicator_scores))
        year_scores = scorer.years([y.features for y in case.years], [year_type(y) for y in case.years], context)
        year = int(np.argmax(year_scores))
        other = len(indicator_scores) - 1
        learned = isinstance(scorer, LearnedScorer)
        subject_p = float(subject_scores[subject]) if subject is not None else 0.0
        indicator_p = float(indicator_scores[indicator]) if learned else float(indicator != other)
        other_p = float(indicator_scores[other]) if learned else float(indicator == other)
        case.claim_features = claim_features(case.span.doc, case.span, case.sentence, case.unit, subject_p,
                                             indicator_p, other_p, case.years[year].year,
                                             subject is not None and case.subjects[subject].source == "implicit",
                                             case.heading)
        return Decision(subject, indicator, year, scorer.claim(case.claim_features), subject_p, indicator_p)

    def _indicator_text(self, doc: Doc, case: ValueCase, decision: Decision, carried: tuple[int, str] | None) -> str:
        """The phrase that names what is measured: the chosen indicator's alias nearest before the value, the
        topic's phrase when the topic goes on, else the noun phrase the value's clause is about."""
        own = [(a, b) for k, a, b in case.alias_spans if k == decision.indicator]
        if own:
            before = [(a, b) for a, b in own if b <= case.span.start_char]
            a, b = max(before, key=lambda ab: ab[1]) if before else min(own)
            return doc_text(doc)[a:b]
        if carried is not None and carried[0] == decision.indicator and carried[1]:
            return carried[1]
        return measured_phrase(doc, case.sentence, case.span)


def _carried(mention: SubjectMention) -> SubjectMention:
    return SubjectMention(**{**mention.__dict__, "carried": True})


def claim_period(year: YearCandidate) -> str | None:
    """"2024-03", "2024-Q1", "2024-H2" when the chosen period is finer than its year."""
    if year.date is None or year.minus_one or year.year is None:
        return None
    value = year.date._.value
    if value.month is not None and value.day is None:
        return f"{year.year}-{value.month:02d}"
    if value.quarter is not None:
        return f"{year.year}-Q{value.quarter}"
    if value.half is not None:
        return f"{year.year}-H{value.half}"
    return None


def value_texts(doc: Doc, frame: DocumentFrame, sentence: Span, value: Span) -> ValueTexts:
    paragraph = frame.paragraph_of(sentence)
    position = paragraph.sentences.index(sentence) if sentence in paragraph.sentences else 0
    previous = paragraph.sentences[position - 1].text if position > 0 else ""
    raw = sentence.text
    text = raw.strip()
    lead = len(raw) - len(raw.lstrip())
    # the words around the value, as a span of the stripped sentence text
    start = max(0, value.start_char - LOCAL_BEFORE - sentence.start_char - lead)
    end = min(len(text), value.end_char + LOCAL_AFTER - sentence.start_char - lead)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return ValueTexts(local=(start, end), sentence=text, previous=previous.strip(),
                      heading=paragraph.heading or frame.title or "")


def measured_phrase(doc: Doc, sentence: Span, value: Span, window: int = 24) -> str:
    """The noun phrase before the value that its clause is about: the nearest one marked as topic or subject
    (관람객 수는, 수출액이), else the nearest noun phrase; entities that are subjects or dates are skipped."""
    start = max(sentence.start, value.start - window)
    tokens = [t for t in doc[start:value.start] if not t.is_space]
    ents = {t.i for e in ents_within(sentence) if e.label_ in (*SUBJECT_LABELS, "DATE", *VALUE_LABELS) for t in e}

    def phrase_ending_at(i: int) -> str:
        j = i
        while j >= 0 and tokens[j].tag_.split("+")[0] in NOUN_TAGS and tokens[j].i not in ents:
            j -= 1
        words = tokens[j + 1:i + 1]
        return doc[words[0].i:words[-1].i + 1].text if words else ""

    for i in range(len(tokens) - 1, 0, -1):
        if tokens[i].tag_ in ("JX", "JKS") and tokens[i - 1].tag_.split("+")[0] in NOUN_TAGS:
            phrase = phrase_ending_at(i - 1)
            if phrase:
                return phrase[-20:]
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].tag_.split("+")[0] in ("NNG", "NNP") and tokens[i].i not in ents:
            return phrase_ending_at(i)[-20:]
    return sentence.text.strip()[:40]


def respectively_pairs(doc: Doc, sentence: Span, mentions: list[SubjectMention], values: list[Span]) -> dict[int, int]:
    """마이크로소프트, 메타 등도 각각 800억 달러, 650억 달러 -> value token start -> subject candidate index,
    pairing the coordinated subjects before 각각 with the values after it, in order."""
    match = RESPECTIVELY.search(sentence.text)
    if not match or len(mentions) < 2:
        return {}
    at = sentence.start_char + match.start()
    before = [m for m in mentions if m.end <= at]
    after = [v for v in values if v.start_char >= at]
    if len(before) < 2 or len(after) < 2:
        return {}
    group = coordinated(doc, before[-1], mentions)
    if len(group) != len(after):
        return {}
    return {v.start: mentions.index(m) for v, m in zip(after, group)}


def build_linker(config: LinkerConfig | None = None, name: str = "kfact_linker", scorer=None) -> ClaimLinker:
    """The one place a linker is built: lexicons, taxonomy, report editions and the encoder from the config's
    files, the scorer from `scorer_path` ("" = rules only) unless one is given."""
    from pipeline.paths import resolve_path

    config = config or LinkerConfig()
    unknown = set(config.subject_labels) - set(SUBJECT_LABELS)
    if unknown:
        raise ValueError(f"kfact_linker: subject_labels {sorted(unknown)} are not subject labels {SUBJECT_LABELS}")
    indicators_path, countries_path, entities_path = map(
        resolve_path, (config.indicators_path, config.countries_path, config.entities_path))
    indicators = load_indicators(indicators_path)
    if scorer is None:
        scorer_path = resolve_path(config.scorer_path) if config.scorer_path else None
        if scorer_path is not None and not Path(scorer_path).is_file():
            raise FileNotFoundError(f"kfact_linker: scorer file {scorer_path} not found "
                                    f"(set scorer_path = \"\" for rules only)")
        scorer = LearnedScorer.from_file(scorer_path, taxonomy_fingerprint(indicators)) if scorer_path else RuleScorer()
    threshold = config.threshold if config.threshold is not None else scorer.threshold
    ids = load_subject_ids(entities_path) if Path(entities_path).is_file() else SubjectIds({})
    lexicon = SubjectLexicon(load_country_names(countries_path), ids.canonical_ids, tuple(config.subject_labels),
                             tuple((word, *spec.split(":", 1)) for word, spec in config.lexicon_subjects.items()),
                             ids.legal_forms, ids.government_pattern, ids.announcer_patterns)
    encoder = None
    if config.encoder_path:
        from pipeline.encoder.loader import shared_encoder

        encoder = shared_encoder(str(resolve_path(config.encoder_path)), config.encoder_backend)
    trained_on = getattr(scorer, "encoder", None)
    in_use = config.encoder_backend if encoder is not None else ""
    if trained_on is not None and trained_on != in_use:
        raise ValueError(f"{config.scorer_path} was trained on {trained_on or 'no'} encoder vectors, but the linker is set "
                         f"to {in_use or 'none'} (encoder_path / encoder_backend): use the backend it was trained on, "
                         f"or retrain it with `kfact train-linker`")
    linker = ClaimLinker(name, indicators, lexicon, scorer, threshold, load_report_editions(indicators_path),
                         encoder, config.max_sentence_entities, config.carry_sentences, config.document_subjects)
    linker.config = config  # what to_disk saves and from_disk rebuilds from
    return linker
