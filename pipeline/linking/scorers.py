"""The linker's scorers. Both see the same candidates and features (pipeline/linking/candidates.py):

- RuleScorer, the baseline: the nearest subject before the value (topic-marked first), the nearest fitting
  alias before it (else the carried topic), the period of the sentence (else the paragraph's);
- LearnedScorer (kfact train-linker): a ranker over each candidate set (subjects, indicators, years), all
  candidates of a set scored together (softmax), and a logistic claim/not-claim model over the value.

A ranker scores candidate i of a value as  w · features_i + context · V[type_i]: a linear part over the
feature row, and a bilinear part between the value's context vector (e5, local and sentence) and a learned
vector per candidate type (per indicator; per subject source and label; per year source). The bilinear part
lets "what the sentence is about" decide, e.g. a ministry's programme against a national statistic; an
indicator without training claims has no vector and competes by its description's similarity alone.
Weights are JSON (the vectors float16 beside it), so the runtime needs no pickle and no scikit-learn.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.linking.candidates import INDICATOR_FEATURES, SUBJECT_FEATURES, YEAR_FEATURES, ContextMemory


def rows(feature_dicts: Sequence[dict[str, float]], names: Sequence[str]) -> np.ndarray:
    return np.array([[f.get(n, 0.0) for n in names] for f in feature_dicts], dtype=np.float64).reshape(-1, len(names))


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


@dataclass
class BilinearRanker:
    """P(candidate i) = softmax_i(w · x_i + context · V[type_i]) over one value's candidate set."""

    features: tuple[str, ...]
    weights: np.ndarray  # [features]
    types: tuple[str, ...]  # candidate types that have a context vector
    vectors: np.ndarray  # [types, context]; may be empty

    def scores(self, x: np.ndarray, types: Sequence[str], context: np.ndarray | None) -> np.ndarray:
        s = x @ self.weights
        if context is not None and len(self.vectors) and len(context) == self.vectors.shape[1]:
            index = {t: i for i, t in enumerate(self.types)}
            bilinear = self.vectors @ context
            # a type never seen in training gets the typical affinity of the seen types
            unseen = float(np.mean([bilinear[i] for t, i in index.items() if t != "other"])) if index else 0.0
            s = s + np.array([bilinear[index[t]] if t in index else unseen for t in types])
        return s

    def probabilities(self, x: np.ndarray, types: Sequence[str], context: np.ndarray | None) -> np.ndarray:
        return softmax(self.scores(x, types, context)) if len(x) else np.zeros(0)

    def to_dict(self) -> dict:
        return {"features": list(self.features), "weights": [float(w) for w in self.weights],
                "types": list(self.types)}

    @classmethod
    def from_dict(cls, data: dict, expected: Sequence[str], vectors: np.ndarray | None) -> "BilinearRanker":
        weights = dict(zip(data["features"], data["weights"]))
        types = tuple(data.get("types", ()))
        return cls(tuple(expected), np.array([weights.get(n, 0.0) for n in expected], dtype=np.float64), types,
                   vectors if vectors is not None else np.zeros((0, 0)))


@dataclass
class LogisticModel:
    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float

    def predict(self, feats: dict[str, float]) -> float:
        z = self.intercept + sum(c * feats.get(f, 0.0) for f, c in zip(self.features, self.coef))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_dict(cls, data: dict) -> "LogisticModel":
        return cls(tuple(data["features"]), tuple(float(c) for c in data["coef"]), float(data["intercept"]))


class RuleScorer:
    """The rules-only baseline, on the learned scorer's candidates and features."""

    name = "rules"
    threshold = 0.5

    def subjects(self, feats: list[dict[str, float]], types, context) -> np.ndarray:
        scores = []
        for f in feats:
            if f["implicit"] or f["previous_paragraph"] or f["document"]:
                scores.append(0.0)  # the rules never guess a subject that is not named nearby
            elif f["carried"]:
                scores.append(0.3 - 0.01 * f["log_sentences_back"])
            elif f["before"] and f["nearest_before"]:
                scores.append(0.9 if (f["topic_marker"] or f["subject_marker"]) else 0.8)
            elif f["before"]:
                scores.append(0.6 if (f["topic_marker"] or f["subject_marker"]) else 0.5)
            else:
                scores.append(0.2)
        return np.array(scores)

    def indicators(self, x: np.ndarray, types, context) -> np.ndarray:
        col = {n: i for i, n in enumerate(INDICATOR_FEATURES)}
        alias_before = x[:, col["alias_before"]] * (1.0 + 0.01 * (10 - x[:, col["log_alias_distance"]]))
        scores = np.where(x[:, col["unit_fits"]] > 0, 0.9, 0.15) * (alias_before > 0) \
            + 0.5 * x[:, col["carried"]] * x[:, col["unit_fits"]] * (alias_before == 0) \
            + 0.4 * x[:, col["alias_sentence"]] * x[:, col["unit_fits"]] * (alias_before == 0)
        scores[-1] = 0.2  # other
        return scores

    def years(self, feats: list[dict[str, float]], types, context) -> np.ndarray:
        """The last period before the value in the sentence, else the first one after, else the paragraph's
        carried period, else the article's; a comparison base (전년, "9위에서") takes the year before; a plan, its
        announcement."""
        scores = []
        marker = bool(feats and (feats[0]["previous_marker"] or feats[0]["from_to"]))
        for f in feats:
            base = (3.0 - 0.001 * f["log_distance"]) * f["src_sentence_before"] + 2.0 * f["src_sentence_after"] \
                + 2.5 * f["src_edition"] + 1.5 * f["src_carried"] + 1.2 * f["src_article"] + 1.0 * f["plan_published"] \
                + 0.5 * f["src_null"]
            if f["since_after"]:
                base = 0.0
            scores.append(base if bool(f["minus_one"]) == marker or f["src_null"] else 0.0)
        return np.array(scores)

    def claim(self, feats: dict[str, float]) -> float:
        return 0.9 if feats["subject_probability"] > 0 and feats["other_probability"] < 0.5 else 0.1


class LearnedScorer:
    name = "learned"

    def __init__(self, subject: BilinearRanker, indicator: BilinearRanker, year: BilinearRanker,
                 claim: LogisticModel, threshold: float, taxonomy: str, memory: ContextMemory | None = None,
                 other_bias: float = 0.0):
        self.subject, self.indicator, self.year, self.claim_model = subject, indicator, year, claim
        self.threshold = threshold  # the claim threshold chosen on dev
        self.taxonomy = taxonomy  # fingerprint of the taxonomy the rankers were trained on
        self.memory = memory  # the training claims' contexts, for the indicator ranker's nearest-neighbour votes
        self.other_bias = other_bias  # added to `other`'s score, chosen on dev (other is a third of the claims)
        self.encoder: str | None = None  # the encoder backend its vectors came from ("" = none; None = not recorded)

    def subjects(self, feats: list[dict[str, float]], types, context) -> np.ndarray:
        return self.subject.probabilities(rows(feats, SUBJECT_FEATURES), types, context)

    def indicators(self, x: np.ndarray, types, context) -> np.ndarray:
        scores = self.indicator.scores(x.astype(np.float64), types, context)
        scores[-1] += self.other_bias  # `other` is the last row
        return softmax(scores)

    def years(self, feats: list[dict[str, float]], types, context) -> np.ndarray:
        return self.year.probabilities(rows(feats, YEAR_FEATURES), types, context)

    def claim(self, feats: dict[str, float]) -> float:
        return self.claim_model.predict(feats)

    def save(self, path: str | Path) -> list[Path]:
        """The weights as JSON; the rankers' context vectors beside them as PATH.vectors.npz (float16)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"subject": self.subject.to_dict(), "indicator": self.indicator.to_dict(),
                "year": self.year.to_dict(), "claim": self.claim_model.to_dict(), "threshold": self.threshold,
                "taxonomy": self.taxonomy, "other_bias": self.other_bias, "encoder": self.encoder}
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        side = vectors_path(path)
        memory = self.memory or ContextMemory(np.zeros((0, 0)), np.zeros(0), [])
        np.savez_compressed(side, taxonomy=np.array(self.taxonomy),
                            memory_contexts=memory.contexts.astype(np.float16), memory_labels=memory.labels,
                            **{name: r.vectors.astype(np.float16) for name, r in
                               (("subject", self.subject), ("indicator", self.indicator), ("year", self.year))})
        return [path, side]

    @classmethod
    def from_file(cls, path: str | Path, taxonomy: str) -> "LearnedScorer":
        """`taxonomy`: the fingerprint of the taxonomy in use; a scorer trained on another one is refused."""
        path = Path(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        if "year" not in data:
            raise ValueError(f"{path} is a scorer of the earlier linker; retrain it with `kfact train-linker`")
        if data.get("taxonomy") != taxonomy:
            raise ValueError(f"{path} was trained on another taxonomy than configs/indicators.toml holds now "
                             f"(fingerprint {str(data.get('taxonomy'))[:12]} vs {taxonomy[:12]}): retrain it with "
                             f"`kfact train-linker`, or set scorer_path = \"\" for the rules")
        vectors: dict[str, np.ndarray] = {}
        memory = None
        side = vectors_path(path)
        if side.is_file():
            with np.load(side) as stored:
                if str(stored["taxonomy"]) != taxonomy:
                    raise ValueError(f"{side} belongs to another taxonomy than {path}: retrain with `kfact train-linker`")
                vectors = {k: stored[k].astype(np.float64) for k in ("subject", "indicator", "year")}
                if len(stored["memory_labels"]):
                    memory = ContextMemory(stored["memory_contexts"], stored["memory_labels"],
                                           [""] * len(stored["memory_labels"]))
        scorer = cls(BilinearRanker.from_dict(data["subject"], SUBJECT_FEATURES, vectors.get("subject")),
                     BilinearRanker.from_dict(data["indicator"], INDICATOR_FEATURES, vectors.get("indicator")),
                     BilinearRanker.from_dict(data["year"], YEAR_FEATURES, vectors.get("year")),
                     LogisticModel.from_dict(data["claim"]), float(data["threshold"]), data["taxonomy"], memory,
                     float(data.get("other_bias", 0.0)))
        scorer.encoder = data.get("encoder")
        return scorer


def vectors_path(scorer_path: Path) -> Path:
    return scorer_path.with_name(scorer_path.stem + ".vectors.npz")
