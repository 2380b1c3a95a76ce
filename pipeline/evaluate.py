"""Evaluation against gold annotation records: entities (seqeval, strict and partial) and claims.

A predicted claim matches a gold claim on subject id, indicator id, year and unit, with the value
within 0.5 %. Claims are compared as sets per record (a fact stated twice counts once).
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from pipeline.annotation_io import AnnotatedRecord, bio_tags

VALUE_TOLERANCE = 0.005


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}


# -- entities ------------------------------------------------------------------------------------

def entity_metrics(gold_records: Sequence[AnnotatedRecord], docs: Sequence) -> dict:
    """Strict span+label metrics via seqeval over a BIO view of the Kiwi tokens, plus partial overlap."""
    from seqeval.metrics import classification_report

    gold_tags, pred_tags = [], []
    partial = Counter()
    for record, doc in zip(gold_records, docs):
        gold = bio_tags(doc, [e.model_dump() for e in record.entities])
        gold_tags.append([t if t != "-" else "O" for t in gold])
        gold_spans = [(e.start, e.end, e.label) for e in record.entities]
        # Masked spans (KMOU POH/DUR) are "don't care": predictions there are neither right nor wrong.
        masked = [(m.start, m.end) for m in record.ignore]
        pred_spans = [(e.start_char, e.end_char, e.label_) for e in doc.ents
                      if not any(a < e.end_char and e.start_char < b for a, b in masked)]
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


def claim_key(claim) -> tuple:
    subject = claim.subject.id if hasattr(claim.subject, "id") else claim.subject["id"]
    indicator = claim.indicator.id if hasattr(claim.indicator, "id") else claim.indicator["id"]
    return (str(subject), str(indicator), claim.year, claim.unit)


def _dedupe(claims: Iterable) -> list:
    unique, seen = [], []
    for claim in claims:
        key = claim_key(claim)
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
    g_key, p_key = claim_key(gold), claim_key(pred)
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


def claim_metrics(gold_by_record: dict[str, list], pred_by_record: dict[str, list]) -> dict:
    total = Counter()
    by_indicator: dict[str, Counter] = defaultdict(Counter)
    details = {}
    for record_id, gold in gold_by_record.items():
        match = match_claims(gold, pred_by_record.get(record_id, []))
        details[record_id] = match
        total.update(tp=len(match.matched), fp=len(match.false), fn=len(match.missed))
        for g, _ in match.matched:
            by_indicator[claim_key(g)[1]]["tp"] += 1
        for p in match.false:
            by_indicator[claim_key(p)[1]]["fp"] += 1
        for g in match.missed:
            by_indicator[claim_key(g)[1]]["fn"] += 1
    return {"micro": prf(total["tp"], total["fp"], total["fn"]),
            "per_indicator": {k: prf(v["tp"], v["fp"], v["fn"]) for k, v in sorted(by_indicator.items())},
            "details": details}


# -- running a pipeline over gold --------------------------------------------------------------

def docs_with_gold_entities(nlp, records: Sequence[AnnotatedRecord]):
    """Tokenize and set gold entities + normalized values: measures the linker on its own."""
    from spacy.util import filter_spans

    from pipeline.normalize import normalize
    from pipeline.schema import parse_published

    docs = []
    for record in records:
        doc = nlp.make_doc(record.text)
        doc._.article_id = record.id
        doc._.published = parse_published(record.published)
        spans = [doc.char_span(e.start, e.end, label=e.label, alignment_mode="expand") for e in record.entities]
        doc.ents = filter_spans([s for s in spans if s is not None])
        for ent in doc.ents:
            ent._.value = normalize(ent.label_, ent.text, doc._.published)
        docs.append(doc)
    return docs


def run_pipeline(nlp, records: Sequence[AnnotatedRecord]) -> tuple[list, float]:
    """Full pipeline over gold texts; returns docs and chars/s."""
    from pipeline.nlp import pipe_articles
    from pipeline.schema import parse_published

    started = time.perf_counter()
    docs = pipe_articles(nlp, [(r.id, r.text, parse_published(r.published)) for r in records])
    seconds = time.perf_counter() - started
    return docs, sum(len(r.text) for r in records) / max(seconds, 1e-9)
