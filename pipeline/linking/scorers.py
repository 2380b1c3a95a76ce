"""The linker's scorers: a rules-only baseline and logistic models learned from gold (kfact train-linker),
stored as JSON so that the runtime needs no pickle and no scikit-learn."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path


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

