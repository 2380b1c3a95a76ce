"""Model-regression group: the shipped models' exact outputs on the bundled sample and the seeds.

A retrain changes these on purpose; read the difference, then `make golden` (tests/golden.py)."""
import json

import pytest

from tests.conftest import SHARED
from tests.golden import GOLDEN, extract

pytestmark = [pytest.mark.model_regression, pytest.mark.slow]


def _difference(expected: dict, got: dict) -> str:
    lines = []
    for record_id in sorted(set(expected) | set(got)):
        want, have = expected.get(record_id), got.get(record_id)
        if want == have:
            continue
        for part in ("entities", "claims"):
            w = {tuple(x) for x in (want or {}).get(part, [])}
            h = {tuple(x) for x in (have or {}).get(part, [])}
            lines += [f"{record_id} {part} lost: {x}" for x in sorted(w - h, key=str)]
            lines += [f"{record_id} {part} new:  {x}" for x in sorted(h - w, key=str)]
    return "\n".join(lines[:40]) + "\n(after a deliberate retrain: make golden)"


@pytest.mark.parametrize("name", ["sample", "seeds"])
def test_extract_matches_the_golden_output(name, shipped_model):
    if name == "seeds" and not (SHARED / "seeds").is_dir():
        pytest.skip("../shared/seeds is not beside the repo")
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    got = extract(name)
    assert got == expected, _difference(expected, got)
