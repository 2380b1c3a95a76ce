"""Golden outputs of the shipped models: what `kfact extract` gives on the bundled sample and the seeds.

They pin the models' exact predictions, so a retrain changes them on purpose. After a retrain, look at the
difference the model-regression tests print, then regenerate with one command:

    make golden        # = python -m tests.golden
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
INPUTS = {"sample": ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl", "seeds": ROOT.parent / "shared" / "seeds"}


def snapshot(records: list[dict]) -> dict:
    """What the golden file keeps per record: entity spans and claim facts (not confidences: they are floats
    whose last digits move with the BLAS build)."""
    def claim(c: dict) -> list:
        value = round(c["value"], 6) if c["value"] is not None else None
        return [c["subject"]["id"], c["indicator"]["id"], c["year"], c["unit"], value, c["value_span"]["start"]]

    return {r["id"]: {"entities": [[e["start"], e["end"], e["label"]] for e in r["entities"]],
                      "claims": sorted((claim(c) for c in r["claims"]), key=json.dumps)}
            for r in records}


def extract(name: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        subprocess.run([sys.executable, "-m", "pipeline", "extract", str(INPUTS[name]), "-o", str(out)],
                       cwd=ROOT, check=True, capture_output=True)
        return snapshot([json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()])


def regenerate() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for name in INPUTS:
        path = GOLDEN / f"{name}.json"
        path.write_text(json.dumps(extract(name), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    regenerate()
