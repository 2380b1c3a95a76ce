"""Evaluation against gold annotation records: entities (seqeval, strict and partial) and claims.

A predicted claim matches a gold claim on subject id, indicator id, year and unit, with the value
within 0.5 %. Claims are compared as sets per record (a fact stated twice counts once).
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from pipeline.io.annotations import AnnotatedRecord
from pipeline.ner.alignment import bio_tags

VALUE_TOLERANCE = 0.005


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}


# -- entities ------------------------------------------------------------------------------------

def scored_pred_spans(record: AnnotatedRecord, doc) -> list[tuple[int, int, str]]:
    """Predicted (start, end, label) that count: masked spans (KMOU POH/DUR) are "don't care", so
    predictions there are neither right nor wrong."""
    masked = [(m.start, m.end) for m in record.ignore]
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents
            if not any(a < e.end_char and e.start_char < b for a, b in masked)]


def entity_metrics(gold_records: Sequence[AnnotatedRecord], docs: Sequence) -> dict:
    """Strict span+label metrics via seqeval over a BIO view of the Kiwi tokens, plus partial overlap."""
    from seqeval.metrics import classification_report

    gold_tags, pred_tags = [], []
    partial = Counter()
    for record, doc in zip(gold_records, docs):
        gold = bio_tags(doc, [e.model_dump() for e in record.entities])
        gold_tags.append([t if t != "-" else "O" for t in gold])
        gold_spans = [(e.start, e.end, e.label) for e in record.entities]
        pred_spans = scored_pred_spans(record, doc)
        pred_tags.append(bio_tags(doc, [{"start": a, "end": b, "label": l} for a, b, l in pred_spans]))
        partial["gold"] += len(gold_spans)
        partial["pred"] += len(pred_spans)
        partial["gold_hit"] += sum(any(a < y and x < b and l == m for x, y, m in pred_spans) for a, b, l in gold_spans)
        partial["pred_hit"] += sum(any(a < y and x < b and l == m for x, y, m in gold_spans) for a, b, l in pred_spans)
    report = classification_report(gold_tags, pred_tags, output_dict=True, zero_division=0)
    per_label = {label: {"precision": v["precision"], "recall": v["recall"], "f1": v["f1-score"],
                         "support": int(v["support"])}
                 for label, v in report.items() if not label.endswith("avg")}
    pick = lambda key: {"precision": report[key]["precision"], "recall": report[key]["recall"],
                        "f1": report[key]["f1-score"], "support": int(report[key]["support"])}
    p = partial["pred_hit"] / partial["pred"] if partial["pred"] else 0.0
    r = partial["gold_hit"] / partial["gold"] if partial["gold"] else 0.0
    return {"per_label": per_label, "micro": pick("micro avg"), "macro": pick("macro avg"),
            "partial": {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}}


# -- claims --------------------------------------------------------------------------------------

def _value_close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    if a == b:
        return True
    return abs(a - b) <= VALUE_TOLERANCE * max(abs(a), abs(b))


def _dedupe(claims: Iterable) -> list:
    unique, seen = [], []
    for claim in claims:
        key = claim.key()
        if any(k == key and _value_close(v, claim.value) for k, v in seen):
            continue
        seen.append((key, claim.value))
        unique.append(claim)
    return unique


@dataclass
class ClaimMatch:
    matched: list = field(default_factory=list)  # (gold, pred)
    missed: list = field(default_factory=list)
    false: list = field(default_factory=list)


def same_claim(gold, pred) -> bool:
    """Subject matches on id, or on surface text: an org without a canonical id keeps its text,
    and annotators sometimes wrote an English id no lexicon knows."""
    g_key, p_key = gold.key(), pred.key()
    subject_ok = g_key[0] == p_key[0] or gold.subject.text == pred.subject.text
    return subject_ok and g_key[1:] == p_key[1:] and _value_close(gold.value, pred.value)


def match_claims(gold: Iterable, predicted: Iterable) -> ClaimMatch:
    gold_left, result = _dedupe(gold), ClaimMatch()
    for pred in _dedupe(predicted):
        hit = next((g for g in gold_left if same_claim(g, pred)), None)
        if hit is None:
            result.false.append(pred)
        else:
            gold_left.remove(hit)
            result.matched.append((hit, pred))
    result.missed = gold_left
    return result


def article_interval(counts: Sequence[tuple[int, int, int]], resamples: int = 1000, level: float = 0.95,
                     seed: int = 0) -> tuple[float, float]:
    """The `level` interval of micro F1 when the articles (their (tp, fp, fn)) are drawn again with replacement:
    claims of one article stand or fall together, so a split of a few long releases is a noisy measure."""
    import numpy as np

    if not counts:
        return 0.0, 0.0
    table = np.asarray(counts, dtype=np.float64)
    draws = np.random.default_rng(seed).integers(0, len(table), size=(resamples, len(table)))
    tp, fp, fn = (table[draws, k].sum(axis=1) for k in range(3))
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    tail = (1 - level) / 2
    return float(np.quantile(f1, tail)), float(np.quantile(f1, 1 - tail))


def claim_metrics(gold_by_record: dict[str, list], pred_by_record: dict[str, list],
                  articles: dict[str, str] | None = None) -> dict:
    """Micro and per-indicator claim P/R/F1. With `articles` (record id -> article id), also the 95 % interval
    of micro F1 by resampling articles (`micro["interval"]`) and the number of articles."""
    total = Counter()
    by_indicator: dict[str, Counter] = defaultdict(Counter)
    by_article: dict[str, Counter] = defaultdict(Counter)
    details = {}
    for record_id, gold in gold_by_record.items():
        match = match_claims(gold, pred_by_record.get(record_id, []))
        details[record_id] = match
        counts = {"tp": len(match.matched), "fp": len(match.false), "fn": len(match.missed)}
        total.update(counts)
        if articles is not None:
            by_article[articles.get(record_id, record_id)].update(counts)
        for g, _ in match.matched:
            by_indicator[g.key()[1]]["tp"] += 1
        for p in match.false:
            by_indicator[p.key()[1]]["fp"] += 1
        for g in match.missed:
            by_indicator[g.key()[1]]["fn"] += 1
    result = {"micro": prf(total["tp"], total["fp"], total["fn"]),
              "per_indicator": {k: prf(v["tp"], v["fp"], v["fn"]) for k, v in sorted(by_indicator.items())},
              "details": details}
    if articles is not None:
        result["micro"]["interval"] = list(article_interval([(c["tp"], c["fp"], c["fn"]) for c in by_article.values()]))
        result["articles"] = len(by_article)
    return result


def record_articles(records: Sequence[AnnotatedRecord]) -> dict[str, str]:
    """record id -> the article it comes from (paragraph records of one article share it)."""
    return {r.id: r.article or r.id for r in records}


# -- running a pipeline over gold --------------------------------------------------------------

def doc_with_spans(nlp, article, spans: Iterable[tuple[int, int, str]]):
    """A tokenized Doc of the Article with the given character spans as entities (expanded to tokens,
    overlaps resolved) and their normalized values: the linker's input without the entity model."""
    from spacy.util import filter_spans

    from pipeline.components.normalize import ValueNormalizer

    doc = nlp.make_doc(article.text)
    doc._.article = article
    ents = [doc.char_span(a, b, label=label, alignment_mode="expand") for a, b, label in spans]
    doc.ents = filter_spans([e for e in ents if e is not None])
    # the production normalizer, so gold-entity scores and linker training see the values extract sees
    return ValueNormalizer("kfact_normalize")(doc)


def docs_with_gold_entities(nlp, records: Sequence[AnnotatedRecord]):
    """Tokenize and set gold entities + normalized values: measures the linker on its own."""
    return [doc_with_spans(nlp, record.as_article(), [(e.start, e.end, e.label) for e in record.entities])
            for record in records]


def run_pipeline(nlp, records: Sequence[AnnotatedRecord]) -> tuple[list, float]:
    """Full pipeline over gold texts; returns the docs and the seconds it took."""
    from pipeline.nlp import pipe_articles

    started = time.perf_counter()
    docs = pipe_articles(nlp, [r.as_article() for r in records])
    return docs, time.perf_counter() - started


# -- one evaluation run, per-sentence errors, and model comparison -------------------------------

@dataclass
class EvalResult:
    """Everything one model scored on one gold set: metrics, the docs behind them, and the run's speed."""

    model: str
    split: str
    records: list
    docs: list
    entities: dict
    claims: dict  # linker mode -> claim_metrics() result (with per-record details)
    seconds: float
    chars: int

    @property
    def chars_per_second(self) -> float:
        return self.chars / max(self.seconds, 1e-9)

    def to_json(self) -> dict:
        return {"model": self.model, "split": self.split, "records": len(self.records), "entities": self.entities,
                "claims": {name: {k: v for k, v in result.items() if k != "details"}
                           for name, result in self.claims.items()},
                "seconds": round(self.seconds, 2), "chars": self.chars, "chars_per_second": self.chars_per_second}


def evaluate_model(records: Sequence[AnnotatedRecord], model_path=None, split: str = "test",
                   config_overrides: dict | None = None) -> EvalResult:
    """Run the full pipeline (one model) over gold records: entity metrics, and claim metrics end to end and
    on gold entities, each with the learned scorer and with the rules-only baseline. `config_overrides` as in
    load_pipeline (the linker preset of --linker)."""
    from pipeline.linking.scorers import RuleScorer
    from pipeline.nlp import load_pipeline
    from pipeline.paths import resolve_model

    nlp = load_pipeline(str(model_path) if model_path else None, config_overrides=config_overrides)
    docs, seconds = run_pipeline(nlp, records)
    entities = entity_metrics(records, docs)
    gold_claims = {r.id: list(r.claims) for r in records}
    linker = nlp.get_pipe("kfact_linker")
    oracle_docs = docs_with_gold_entities(nlp, records)
    claims = {}
    learned = (linker.scorer, linker.threshold)
    articles = record_articles(records)
    for scorer_name, (scorer, threshold) in (("learned", learned), ("rules", (RuleScorer(), RuleScorer.threshold))):
        linker.scorer, linker.threshold = scorer, threshold
        # The pipeline's own run already linked the docs with the learned scorer.
        end_to_end = {d._.article_id: (d._.claims or []) if scorer_name == "learned" else [c for c, _ in linker.link(d)]
                      for d in docs}
        claims[f"end to end, {scorer_name}"] = claim_metrics(gold_claims, end_to_end, articles)
        claims[f"gold entities, {scorer_name}"] = claim_metrics(
            gold_claims, {d._.article_id: [c for c, _ in linker.link(d)] for d in oracle_docs}, articles)
    linker.scorer, linker.threshold = learned
    return EvalResult(str(resolve_model(model_path)), split, list(records), docs, entities, claims,
                      seconds, sum(len(r.text) for r in records))


@dataclass
class SentenceErrors:
    """One sentence's gold and predicted spans (offsets relative to `text`) and what went wrong."""

    record_id: str
    sentence: int
    start: int  # offset of the sentence in the record text
    text: str
    gold: list  # (start, end, label)
    pred: list
    errors: list  # (kind, start, end, label, detail); kind: missed | spurious | boundary | label

    @property
    def count(self) -> int:
        return len(self.errors)


def _span_errors(gold: list, pred: list) -> list:
    """Strict span+label mismatches, classified by what the nearest overlapping span says."""
    errors = []
    gold_set, pred_set = set(gold), set(pred)
    for a, b, label in sorted(gold_set - pred_set):
        overlap = [p for p in pred if p[0] < b and a < p[1]]
        if any(p[2] == label for p in overlap):
            errors.append(("boundary", a, b, label, "predicted " + ", ".join(
                f"{p[0]}-{p[1]}" for p in overlap if p[2] == label)))
        elif overlap:
            errors.append(("label", a, b, label, "predicted " + ", ".join(p[2] for p in overlap)))
        else:
            errors.append(("missed", a, b, label, ""))
    for a, b, label in sorted(pred_set - gold_set):
        if not any(g[0] < b and a < g[1] for g in gold):
            errors.append(("spurious", a, b, label, ""))
    return errors


def sentence_errors(records: Sequence[AnnotatedRecord], docs: Sequence) -> list[SentenceErrors]:
    """Per sentence (Kiwi's sentence split), gold vs predicted spans by character offsets; masked spans
    (KMOU POH/DUR) are left out as in entity_metrics."""
    out = []
    for record, doc in zip(records, docs):
        gold_all = [(e.start, e.end, e.label) for e in record.entities]
        pred_all = scored_pred_spans(record, doc)
        sentences = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
        for index, sent in enumerate(sentences):
            s, t = sent.start_char, sent.end_char
            if not sent.text.strip():
                continue
            inside = lambda spans: [(max(a, s) - s, min(b, t) - s, l) for a, b, l in spans if s <= a < t]
            gold, pred = inside(gold_all), inside(pred_all)
            out.append(SentenceErrors(record.id, index, s, doc.text[s:t], gold, pred, _span_errors(gold, pred)))
    return out


def worst_sentences(records, docs, limit: int = 10) -> list[SentenceErrors]:
    ranked = [s for s in sentence_errors(records, docs) if s.count]
    return sorted(ranked, key=lambda s: (-s.count, s.record_id, s.sentence))[:limit]


def compare_results(results: Sequence[EvalResult]) -> dict:
    """Per-label F1 of each model and its delta against the first (the baseline); same for claim F1."""
    if len(results) < 2:
        return {}
    base = results[0]
    labels = sorted({label for r in results for label in r.entities["per_label"]})
    rows = []
    for label in labels + ["micro", "macro", "partial"]:
        scores = []
        for r in results:
            m = r.entities["per_label"].get(label) if label in labels else r.entities[label]
            scores.append(m["f1"] if m else 0.0)
        # Gold support is the same for every model; a label only one model predicted is missing from the others.
        support = next((r.entities["per_label"][label]["support"] for r in results if label in r.entities["per_label"]),
                       None) if label in labels else base.entities[label].get("support")
        rows.append({"label": label, "f1": scores, "delta": [s - scores[0] for s in scores], "support": support})
    claim_rows = []
    for name in base.claims:
        scores = [r.claims[name]["micro"]["f1"] for r in results]
        claim_rows.append({"linker": name, "f1": scores, "delta": [s - scores[0] for s in scores]})
    return {"models": [r.model for r in results], "baseline": base.model, "entities": rows, "claims": claim_rows,
            "chars_per_second": [r.chars_per_second for r in results]}
