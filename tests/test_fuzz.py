"""`kfact fuzz` end to end on a small run: hostile records through the real `kfact extract`."""
import json

from pipeline.evaluation.fuzz import generate
from tests.conftest import run_kfact


def test_generator_is_deterministic_and_counts_its_records(tmp_path):
    first = generate(tmp_path / "a", records=300, seed=3, max_chars=20_000)
    second = generate(tmp_path / "b", records=300, seed=3, max_chars=20_000)
    assert (tmp_path / "a" / "fuzz.jsonl").read_bytes() == (tmp_path / "b" / "fuzz.jsonl").read_bytes()
    inputs, texts, count = first
    assert count == 300 == second[2]
    lines = (tmp_path / "a" / "fuzz.jsonl").read_bytes().splitlines()
    assert count == sum(1 for line in lines if line.strip()) + len(list((tmp_path / "a" / "txt").iterdir()))
    assert any(b"\\ud800" in line for line in lines)  # the hostile kinds are all there
    assert any(not line.startswith(b"{") for line in lines)


def test_fuzz_200_records_no_crash_and_counts_add_up(tmp_path, shipped_model):
    report = tmp_path / "report.json"
    result = run_kfact("fuzz", "--records", "200", "-o", str(tmp_path / "fuzz"), "--seed", "7",
                       "--model", str(shipped_model), "--report", str(report))
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(report.read_text(encoding="utf-8"))
    assert figures["ok"] and figures["crashes"] == 0 and figures["exit_code"] == 0
    assert figures["records"] == 200 == figures["written"] + figures["rejected"]
    assert figures["written"] > 0 and figures["rejected"] > 0
    assert figures["offset_errors"] == 0 and figures["bad_reject_lines"] == 0 and not figures["missing_ids"]
    assert figures["seconds"] > 0
