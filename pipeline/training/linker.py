"""Learn the linker's scorer from gold claims: `kfact train-linker`.

On gold entities, every value entity with a subject candidate gives one row for the claim model
(is this value a claim?) and, when it is a gold claim, one row per subject candidate for the
subject model (is this its subject?). Both are logistic regressions; their weights are written
as JSON so the runtime needs no pickle and no scikit-learn.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Sequence

from pipeline.io.annotations import AnnotatedRecord
from pipeline.evaluation.metrics import claim_metrics, docs_with_gold_entities
from pipeline.linking.features import CLAIM_FEATURES, INDICATOR_FEATURES, SUBJECT_FEATURES
from pipeline.linking.linker import ClaimLinker
from pipeline.linking.scorers import LearnedScorer, LogisticModel, RuleScorer


def feature_rows(linker: ClaimLinker, docs, records: Sequence[AnnotatedRecord]):
    claim_x, claim_y, subject_x, subject_y, indicator_x, indicator_y = [], [], [], [], [], []
    saved = linker.scorer
    linker.scorer = RuleScorer()  # candidates and features do not depend on the scorer
    try:
        for doc, record in zip(docs, records):
            gold, gold_indicators = {}, {}
            for claim in record.claims:
                key = (claim.value_span.start, claim.value_span.end)
                gold.setdefault(key, set()).update({claim.subject.id, claim.subject.text})
                gold_indicators.setdefault(key, set()).add(claim.indicator.id)
            seen = set()
            for _, ctx in linker.link(doc, keep_all=True):
                key = (ctx.span.start_char, ctx.span.end_char)
                if key in seen:
                    continue
                seen.add(key)
                claim_x.append([ctx.claim_features[f] for f in CLAIM_FEATURES])
                claim_y.append(int(key in gold))
                if key in gold:
                    for candidate in ctx.indicator_candidates:
                        indicator_x.append([candidate.features[f] for f in INDICATOR_FEATURES])
                        indicator_y.append(int(candidate.indicator.id in gold_indicators[key]))
                    for subject, feats in zip(ctx.subjects, ctx.features):
                        subject_x.append([feats[f] for f in SUBJECT_FEATURES])
                        subject_y.append(int(subject.id in gold[key] or subject.text in gold[key]))
    finally:
        linker.scorer = saved
    return claim_x, claim_y, subject_x, subject_y, indicator_x, indicator_y


def fit_logistic(x, y, names, c: float = 1.0) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression

    if len(set(y)) < 2:
        raise ValueError(f"need positive and negative examples to fit, got labels {set(y)}")
    # 'bias' is a constant column; sklearn's own intercept does that job.
    model = LogisticRegression(C=c, max_iter=2000).fit(x, y)
    return LogisticModel(tuple(names), tuple(float(v) for v in model.coef_[0]), float(model.intercept_[0]))


def evaluate_linker(linker: ClaimLinker, docs, records: Sequence[AnnotatedRecord]) -> dict:
    predicted = {r.id: [c for c, _ in linker.link(d)] for d, r in zip(docs, records)}
    gold = {r.id: list(r.claims) for r in records}
    return claim_metrics(gold, predicted)


def train_linker(nlp, linker: ClaimLinker, records: Sequence[AnnotatedRecord], output: Path,
                 thresholds: Sequence[float] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
                 indicator_minimums: Sequence[float] = (0.02, 0.05, 0.1, 0.2, 0.3), log=print) -> dict:
    """Fit on train, sweep the thresholds on dev, report test once for rules and learned scorers."""
    started = time.time()
    by_split = {s: [r for r in records if r.split == s] for s in ("train", "dev", "test")}
    docs = {s: docs_with_gold_entities(nlp, rs) for s, rs in by_split.items()}
    cx, cy, sx, sy, ix, iy = feature_rows(linker, docs["train"], by_split["train"])
    log(f"linker training rows: claim {len(cy)} ({sum(cy)} positive), subject {len(sy)} ({sum(sy)} positive), "
        f"indicator {len(iy)} ({sum(iy)} positive)")
    scorer = LearnedScorer(fit_logistic(sx, sy, SUBJECT_FEATURES), fit_logistic(cx, cy, CLAIM_FEATURES),
                           fit_logistic(ix, iy, INDICATOR_FEATURES))

    sweep = []
    linker.scorer = scorer
    for threshold in thresholds:
        for indicator_min in indicator_minimums:
            linker.threshold, scorer.indicator_min_score = threshold, indicator_min
            sweep.append({"threshold": threshold, "indicator_min_score": indicator_min,
                          "dev_f1": evaluate_linker(linker, docs["dev"], by_split["dev"])["micro"]["f1"]})
    # The rules' indicator choice competes on dev too: a learned part ships only where it wins.
    rule_indicator = LearnedScorer(scorer.subject, scorer.claim, None)
    linker.scorer = rule_indicator
    for threshold in thresholds:
        linker.threshold = threshold
        sweep.append({"threshold": threshold, "indicator_min_score": None,
                      "dev_f1": evaluate_linker(linker, docs["dev"], by_split["dev"])["micro"]["f1"]})
    best = max(sweep, key=lambda row: row["dev_f1"])
    if best["indicator_min_score"] is None:
        scorer = rule_indicator
    else:
        scorer.indicator_min_score = best["indicator_min_score"]
    scorer.threshold = best["threshold"]
    linker.scorer, linker.threshold = scorer, scorer.threshold
    learned = {s: evaluate_linker(linker, docs[s], by_split[s])["micro"] for s in ("dev", "test")}

    linker.scorer, linker.threshold = RuleScorer(), RuleScorer.threshold
    rules = {s: evaluate_linker(linker, docs[s], by_split[s])["micro"] for s in ("dev", "test")}
    linker.scorer, linker.threshold = scorer, scorer.threshold

    output.parent.mkdir(parents=True, exist_ok=True)
    payload = scorer.to_dict()
    output.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    report = {"rows": {"claim": len(cy), "subject": len(sy), "indicator": len(iy)}, "threshold_sweep": sweep,
              "best_threshold": best["threshold"], "best_indicator_min_score": best["indicator_min_score"],
              "learned": learned, "rules": rules,
              "records": {s: len(rs) for s, rs in by_split.items()},
              "gold_claims": {s: sum(len(r.claims) for r in rs) for s, rs in by_split.items()},
              "seconds": round(time.time() - started, 1)}
    (output.parent / "metrics.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report
