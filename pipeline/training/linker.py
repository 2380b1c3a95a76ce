"""Learn the linker's scorers from gold claims: `kfact train-linker`.

The linker walks each gold document (gold entities, values normalized by the production component) with the
gold choices forced, so that what carries on from one value to the next is what the annotator meant; every
gold claim gives one example to each ranker (its subject, indicator and year among the candidates the linker
offers), and every value one example to the claim model. Rankers (pipeline/linking/scorers.py) are fitted by
L-BFGS on the softmax likelihood of the correct candidates, with L2 on the linear weights and on the context
vectors; the claim model is a logistic regression; the claim threshold is chosen on dev. Test is scored only
when asked (--test), once, at the end.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.evaluation.metrics import claim_metrics, docs_with_gold_entities, record_articles
from pipeline.io.annotations import AnnotatedRecord
from pipeline.linking.candidates import (CLAIM_FEATURES, INDICATOR_FEATURES, SUBJECT_FEATURES, YEAR_FEATURES,
                                         ContextMemory, subject_type, year_type)
from pipeline.linking.linker import ClaimLinker, Decision, ValueCase
from pipeline.linking.scorers import BilinearRanker, LearnedScorer, LogisticModel, RuleScorer, rows

THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
# L2 strength of the linear weights and of the context vectors, chosen on dev (2026-12-01: claim F1 on gold
# entities 0.354 at 0.001/0.05, 0.339 at 0.01/0.05, 0.346 at 0.01/0.01, 0.303 at 0.01/0.2)
L2_WEIGHTS, L2_VECTORS = 0.001, 0.05
VECTORLESS = ()  # candidate types without a context vector (tried: `other` alone; no gain on dev)
OTHER_BIASES = (0.0, -0.5, -1.0, -1.5, -2.0, -3.0)


@dataclass
class RankExamples:
    """Candidate sets: feature rows, candidate types, the value's context, and the correct candidates."""

    x: list[np.ndarray] = field(default_factory=list)
    types: list[list[str]] = field(default_factory=list)
    contexts: list[np.ndarray | None] = field(default_factory=list)
    positives: list[list[int]] = field(default_factory=list)
    missing: int = 0  # gold choices the candidates did not contain

    def add(self, x: np.ndarray, types: list[str], context, positives: list[int]) -> None:
        if positives:
            self.x.append(np.asarray(x, dtype=np.float64))
            self.types.append(types)
            self.contexts.append(context)
            self.positives.append(positives)
        else:
            self.missing += 1

    def extend(self, other: "RankExamples") -> None:
        self.x += other.x
        self.types += other.types
        self.contexts += other.contexts
        self.positives += other.positives
        self.missing += other.missing


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


class GoldWalk:
    """A `decide` for ClaimLinker.link that records every value's candidates with the gold choices. With
    `follow_gold`, the walk goes on with the gold choices (what carries to the next value is what the annotator
    meant); without, it goes on with the scorer's own, as at run time, so the rankers also learn from the
    states their own mistakes lead to."""

    def __init__(self, linker: ClaimLinker, record: AnnotatedRecord, follow_gold: bool = True):
        self.linker = linker
        self.follow_gold = follow_gold
        self.gold = [(c, (c.value_span.start, c.value_span.end)) for c in record.claims]
        self.indicator_index = {ind.id: k for k, ind in enumerate(linker.indicators)}
        self.article = record.article or record.id
        self.subjects, self.indicators, self.years = RankExamples(), RankExamples(), RankExamples()
        self.claims: list[tuple[dict[str, float], int]] = []

    def __call__(self, case: ValueCase) -> Decision:
        span = (case.span.start_char, case.span.end_char)
        gold = [c for c, s in self.gold if _overlaps(s, span)]
        decision = self.linker.decide(case)  # also fills case.claim_features
        self.claims.append((dict(case.claim_features), int(bool(gold))))
        if not gold:
            return Decision(decision.subject, decision.indicator, decision.year, 0.0)
        claim = gold[0]
        subject_pos = [i for i, c in enumerate(case.subjects)
                       if c.mention.id in {g.subject.id for g in gold} or (c.mention.text and c.mention.text in
                                                                           {g.subject.text for g in gold})]
        indicator = self.indicator_index.get(claim.indicator.id, len(self.linker.indicators))
        year_pos = [i for i, y in enumerate(case.years) if y.year == claim.year]
        context = case.context()
        self.subjects.add(rows([c.features for c in case.subjects], SUBJECT_FEATURES),
                          [subject_type(c) for c in case.subjects], context, subject_pos)
        self.indicators.add(case.indicator_x, self.linker.indicator_types, context, [indicator])
        self.years.add(rows([y.features for y in case.years], YEAR_FEATURES), [year_type(y) for y in case.years],
                       context, year_pos)
        if not self.follow_gold:
            return decision
        return Decision(subject_pos[0] if subject_pos else decision.subject, indicator,
                        year_pos[0] if year_pos else decision.year, 1.0)


def fit_ranker(examples: RankExamples, names: Sequence[str], l2_weights: float = L2_WEIGHTS,
               l2_vectors: float = L2_VECTORS, vectorless: Sequence[str] = ()) -> BilinearRanker:
    """Maximize the softmax probability mass of the correct candidates of every set (vectorized over sets).
    Candidates of a `vectorless` type get no context vector (they compete by their features alone)."""
    from scipy.optimize import minimize

    f = len(names)
    if not examples.x:
        return BilinearRanker(tuple(names), np.zeros(f), (), np.zeros((0, 0)))
    types = sorted({t for ts in examples.types for t in ts})
    frozen = np.array([t in vectorless for t in types])
    type_index = {t: i for i, t in enumerate(types)}
    have_context = [c is not None for c in examples.contexts]
    h = next((len(c) for c in examples.contexts if c is not None), 0)
    x = np.concatenate(examples.x)  # [candidates, f]
    sizes = np.array([len(e) for e in examples.x])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    segment = np.repeat(np.arange(len(sizes)), sizes)
    t = np.array([type_index[tt] for ts in examples.types for tt in ts])
    c = np.stack([examples.contexts[i] if have_context[i] else np.zeros(h) for i in range(len(sizes))]) \
        if h else np.zeros((len(sizes), 0))
    positive = np.zeros(len(x), dtype=bool)
    for i, pos in enumerate(examples.positives):
        positive[starts[i] + np.asarray(pos)] = True
    n_types = len(types)

    def unpack(theta):
        return theta[:f], theta[f:].reshape(n_types, h) if h else np.zeros((n_types, 0))

    def loss(theta):
        w, v = unpack(theta)
        # context · V[type]: one product for every (set, type) pair, then each candidate picks its own
        s = x @ w + ((c @ v.T)[segment, t] if h else 0.0)
        seg_max = np.maximum.reduceat(s, starts)
        e = np.exp(s - seg_max[segment])
        z = np.add.reduceat(e, starts)
        zp = np.add.reduceat(np.where(positive, e, 0.0), starts)
        nll = -np.sum(np.log(zp / z)) / len(sizes)
        p = e / z[segment]
        q = np.where(positive, e / zp[segment], 0.0)
        g = (p - q) / len(sizes)
        grad_w = x.T @ g + l2_weights * w
        total = nll + 0.5 * l2_weights * w @ w
        if h:
            per_type = np.zeros((len(sizes), n_types))
            np.add.at(per_type, (segment, t), g)
            grad_v = per_type.T @ c + l2_vectors * v
            grad_v[frozen] = 0.0  # stays at its start, zero
            total += 0.5 * l2_vectors * np.sum(v * v)
            return total, np.concatenate([grad_w, grad_v.ravel()])
        return total, grad_w

    result = minimize(loss, np.zeros(f + n_types * h), jac=True, method="L-BFGS-B", options={"maxiter": 400})
    w, v = unpack(result.x)
    return BilinearRanker(tuple(names), w, tuple(types) if h else (), v if h else np.zeros((0, 0)))


def fit_logistic(x, y, names, c: float = 1.0) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression

    if len(set(y)) < 2:
        raise ValueError(f"need positive and negative examples to fit, got labels {set(y)}")
    # 'bias' is a constant column; sklearn's own intercept does that job.
    model = LogisticRegression(C=c, max_iter=2000).fit(x, y)
    return LogisticModel(tuple(names), tuple(float(v) for v in model.coef_[0]), float(model.intercept_[0]))


def walk(linker: ClaimLinker, docs, records: Sequence[AnnotatedRecord], follow_gold: bool = True) -> list[GoldWalk]:
    walks = []
    try:
        for doc, record in zip(docs, records):
            gold_walk = GoldWalk(linker, record, follow_gold)
            linker.exclude_article = gold_walk.article  # the memory offers no neighbour from this article
            linker.link(doc, keep_all=True, decide=gold_walk)
            walks.append(gold_walk)
    finally:
        linker.exclude_article = None
    return walks


def context_memory(walks: list[GoldWalk]) -> ContextMemory | None:
    """Every training claim's context and indicator; and each example's knn columns refilled without its own
    article (they were walked before the memory existed)."""
    contexts, labels, articles = [], [], []
    for w in walks:
        for c, pos in zip(w.indicators.contexts, w.indicators.positives):
            if c is not None:
                contexts.append(c)
                labels.append(pos[0])
                articles.append(w.article)
    if not contexts:
        return None
    memory = ContextMemory(np.stack(contexts), np.array(labels), articles)
    for w in walks:
        for x, c in zip(w.indicators.x, w.indicators.contexts):
            memory.fill(x, c, exclude_article=w.article)
    return memory


def evaluate_linker(linker: ClaimLinker, docs, records: Sequence[AnnotatedRecord]) -> dict:
    predicted = {r.id: [c for c, _ in linker.link(d)] for d, r in zip(docs, records)}
    return claim_metrics({r.id: list(r.claims) for r in records}, predicted, record_articles(records))


def threshold_sweep(linker: ClaimLinker, docs, records: Sequence[AnnotatedRecord], thresholds) -> list[dict]:
    """Claim F1 at each threshold, from one pass: claims are linked at threshold 0 and filtered by confidence.
    An approximation (a dropped claim would also stop carrying its subject on); `cross_validate` links at each
    point of its smaller grid instead."""
    saved, linker.threshold = linker.threshold, 0.0
    try:
        linked = {r.id: [c for c, _ in linker.link(d)] for d, r in zip(docs, records)}
    finally:
        linker.threshold = saved
    gold = {r.id: list(r.claims) for r in records}
    return [{"threshold": t, "dev_f1": claim_metrics(gold, {i: [c for c in cs if c.confidence >= t]
                                                             for i, cs in linked.items()})["micro"]["f1"]}
            for t in thresholds]


def fit_scorer(linker: ClaimLinker, docs, records: Sequence[AnnotatedRecord], log=print,
               l2_weights: float = L2_WEIGHTS, l2_vectors: float = L2_VECTORS,
               rounds: int = 1) -> tuple[LearnedScorer, dict]:
    """Rankers on a walk with the rules (their candidates and features do not depend on the scorer), then the
    claim model on features computed with the fitted rankers."""
    taxonomy = linker.taxonomy
    linker.scorer = RuleScorer()
    merged = {name: RankExamples() for name in ("subject", "indicator", "year")}
    first = walk(linker, docs, records)
    memory = context_memory(first)
    for w in first:
        merged["subject"].extend(w.subjects)
        merged["indicator"].extend(w.indicators)
        merged["year"].extend(w.years)
    counts = {k: len(v.x) for k, v in merged.items()}
    missing = {k: v.missing for k, v in merged.items()}
    log(f"ranking examples {counts}; gold choice not among the candidates {missing}")
    subject = fit_ranker(merged["subject"], SUBJECT_FEATURES, l2_weights, l2_vectors)
    indicator = fit_ranker(merged["indicator"], INDICATOR_FEATURES, l2_weights, l2_vectors, VECTORLESS)
    year = fit_ranker(merged["year"], YEAR_FEATURES, l2_weights, l2_vectors)
    placeholder = LogisticModel(CLAIM_FEATURES, tuple(0.0 for _ in CLAIM_FEATURES), 0.0)
    for _ in range(rounds):
        # the rankers again, on the states their own choices lead to (and the gold-state examples kept)
        linker.scorer = LearnedScorer(subject, indicator, year, placeholder, 0.0, taxonomy, memory)
        saved, linker.threshold = linker.threshold, 0.0
        for w in walk(linker, docs, records, follow_gold=False):
            merged["subject"].extend(w.subjects)
            merged["indicator"].extend(w.indicators)
            merged["year"].extend(w.years)
        linker.threshold = saved
        subject = fit_ranker(merged["subject"], SUBJECT_FEATURES, l2_weights, l2_vectors)
        indicator = fit_ranker(merged["indicator"], INDICATOR_FEATURES, l2_weights, l2_vectors, VECTORLESS)
        year = fit_ranker(merged["year"], YEAR_FEATURES, l2_weights, l2_vectors)
    linker.scorer = LearnedScorer(subject, indicator, year, placeholder, 0.5, taxonomy, memory)
    claim_rows = [row for w in walk(linker, docs, records, follow_gold=False) for row in w.claims]
    claim = fit_logistic([[f[n] for n in CLAIM_FEATURES] for f, _ in claim_rows], [y for _, y in claim_rows],
                         CLAIM_FEATURES)
    return LearnedScorer(subject, indicator, year, claim, 0.5, taxonomy, memory), \
        {"examples": counts, "gold_not_among_candidates": missing}


def train_linker(nlp, linker: ClaimLinker, records: Sequence[AnnotatedRecord], output: Path, log=print,
                 splits: Sequence[str] = ("dev",), threshold: float | None = None,
                 other_bias: float | None = None) -> dict:
    """Fit on train, choose the threshold and the `other` bias on dev unless given (`kfact cv-linker` prints the
    pair cross-validation over train+dev prefers); score `splits` (dev; add test to report it) for the rules
    and the learned scorer."""
    started = time.time()
    by_split = {s: [r for r in records if r.split == s] for s in ("train", "dev", "test")}
    docs = {s: docs_with_gold_entities(nlp, rs) for s, rs in by_split.items() if s in ("train", "dev", *splits)}
    scorer, report = fit_scorer(linker, docs["train"], by_split["train"], log)
    scorer.encoder = linker.semantics.encoder.backend if linker.semantics is not None else ""
    linker.scorer = scorer
    sweep = []
    for bias in OTHER_BIASES:
        scorer.other_bias = bias
        sweep += [s | {"other_bias": bias} for s in threshold_sweep(linker, docs["dev"], by_split["dev"], THRESHOLDS)]
    best = max(sweep, key=lambda s: (s["dev_f1"], -abs(s["threshold"] - 0.5), -abs(s["other_bias"])))
    if threshold is not None or other_bias is not None:
        given = {"threshold": best["threshold"] if threshold is None else threshold,
                 "other_bias": best["other_bias"] if other_bias is None else other_bias}
        best = next((s for s in sweep if s["threshold"] == given["threshold"] and s["other_bias"] == given["other_bias"]),
                    {**given, "dev_f1": float("nan")})
        log(f"given: claim threshold {best['threshold']}, other bias {best['other_bias']} (dev F1 {best['dev_f1']:.3f})")
    else:
        log(f"chosen on dev: claim threshold {best['threshold']}, other bias {best['other_bias']} (F1 {best['dev_f1']:.3f})")
    scorer.threshold, scorer.other_bias = best["threshold"], best["other_bias"]
    report |= {"threshold_sweep": sweep, "best_threshold": best["threshold"], "other_bias": best["other_bias"]}
    for name, (chosen, threshold) in (("learned", (scorer, best["threshold"])),
                                      ("rules", (RuleScorer(), RuleScorer.threshold))):
        linker.scorer, linker.threshold = chosen, threshold
        scored = {split: evaluate_linker(linker, docs[split], by_split[split]) for split in splits}
        report[name] = {split: m["micro"] for split, m in scored.items()}
        report[f"{name}_per_indicator"] = {split: m["per_indicator"] for split, m in scored.items()}
    linker.scorer, linker.threshold = scorer, scorer.threshold
    scorer.save(output)
    (output.parent / "metrics.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    report["seconds"] = round(time.time() - started, 1)
    return report


# -- cross-validation: a steadier instrument for choices than dev alone ---------------------------

CV_SPLITS = ("train", "dev")  # never test, never blind
CV_THRESHOLD, CV_OTHER_BIAS = 0.8, -0.5  # fixed, so that recipes are compared at the same operating point
CV_THRESHOLDS = (0.6, 0.7, 0.75, 0.8, 0.85, 0.9)  # the operating points the sweep links at (one pass each);
CV_BIASES = (0.0, -0.5, -1.0, -1.5)  # the fixed point above is one of them


def article_folds(records: Sequence[AnnotatedRecord], folds: int) -> list[int]:
    """Each record's fold by a hash of its article: no article has records in two folds."""
    import hashlib

    return [int(hashlib.sha1((r.article or r.id).encode("utf-8")).hexdigest(), 16) % folds for r in records]


def cross_validate(nlp, linker: ClaimLinker, records: Sequence[AnnotatedRecord], folds: int = 4,
                   log=print) -> dict:
    """Article-grouped K-fold claim F1 (gold entities) of the learned scorer's recipe and of the rules, over the
    train and dev records: every record is scored by a scorer fitted on the other folds. Dev alone (465 claims,
    a few releases) moved one way while test moved the other; 2,463 claims in four folds move less."""
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    records = [r for r in records if r.split in CV_SPLITS]
    docs = docs_with_gold_entities(nlp, records)
    fold_of = article_folds(records, folds)
    gold = {r.id: list(r.claims) for r in records}
    predicted: dict[str, dict[str, list]] = {"learned": {}, "rules": {}}
    at_point: dict[tuple[float, float], dict[str, list]] = {}
    per_fold = []
    for k in range(folds):
        fit = [(d, r) for d, r, f in zip(docs, records, fold_of) if f != k]
        held = [(d, r) for d, r, f in zip(docs, records, fold_of) if f == k]
        if not held or not fit:
            continue
        scorer, _ = fit_scorer(linker, [d for d, _ in fit], [r for _, r in fit], log=lambda *_: None)
        linker.scorer = scorer
        # Linked at each point: a claim dropped by the threshold also stops carrying its subject on, so filtering
        # one threshold-0 pass by confidence would score another linker (0.242 against 0.258 at 0.8 / −0.5).
        for bias in CV_BIASES:
            scorer.other_bias = bias
            for t in CV_THRESHOLDS:
                linker.threshold = t
                for d, r in held:
                    at_point.setdefault((t, bias), {})[r.id] = [c for c, _ in linker.link(d)]
        linker.scorer, linker.threshold = RuleScorer(), RuleScorer.threshold
        for d, r in held:
            predicted["rules"][r.id] = [c for c, _ in linker.link(d)]
        ids = [r.id for _, r in held]
        predicted["learned"].update({i: at_point[(CV_THRESHOLD, CV_OTHER_BIAS)][i] for i in ids})  # one of the points
        m = claim_metrics({i: gold[i] for i in ids}, {i: predicted["learned"][i] for i in ids})["micro"]
        per_fold.append({"fold": k, "records": len(held), "claims": sum(len(gold[i]) for i in ids), "learned": m})
        log(f"fold {k}: {len(held)} records, learned claim F1 {m['f1']:.3f}")
    linker.scorer = RuleScorer()
    sweep = [{"threshold": t, "other_bias": bias, "cv_f1": claim_metrics(gold, linked)["micro"]["f1"]}
             for (t, bias), linked in at_point.items()]
    best = max(sweep, key=lambda s: (s["cv_f1"], -abs(s["threshold"] - 0.5), -abs(s["other_bias"])), default=None)
    return {"folds": per_fold, "threshold": CV_THRESHOLD, "other_bias": CV_OTHER_BIAS, "sweep": sweep, "best": best,
            **{name: claim_metrics(gold, predicted[name], record_articles(records))["micro"] for name in predicted}}
