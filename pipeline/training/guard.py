"""The regression guard after `kfact train`: the new model against the current one on the fixed test split."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence


@dataclass
class GuardResult:
    comparison: dict
    micro_delta: float  # entity micro F1, new minus baseline
    path: Path  # regression.json beside the new model

    def regressed(self, max_f1_drop: float | None) -> bool:
        return max_f1_drop is not None and self.micro_delta < -max_f1_drop


def regression_guard(new_model: Path, baseline: Path, records: Sequence) -> GuardResult:
    """Score both models on the same records; per-label deltas are kept as NEW/regression.json."""
    from pipeline.evaluation.metrics import compare_results, evaluate_model

    comparison = compare_results([evaluate_model(records, baseline), evaluate_model(records, new_model)])
    path = new_model / "regression.json"
    path.write_text(json.dumps(comparison, indent=2, ensure_ascii=False), encoding="utf-8")
    micro = next(row for row in comparison["entities"] if row["label"] == "micro")["delta"][1]
    return GuardResult(comparison, micro, path)
