"""`kfact fuzz` end to end on a small run: hostile records through the real `kfact extract`."""
import json
import os

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
    assert figures["peak_rss_mb"] > 100  # sampled while it ran: Python with torch and Kiwi loaded


def test_soak_windows_measure_the_first_and_last_tenth_after_start_up(tmp_path):
    from pipeline.evaluation.fuzz import _LineCounter, _Sample, _tree_rss_mb, _window

    # start-up (nothing done), then 10 records/s with RSS growing from 500 to 600 MB
    samples = [_Sample(0.0, 0, 300.0, 300.0), _Sample(5.0, 0, 400.0, 400.0)]
    samples += [_Sample(5.0 + t, 10 * t, 500.0 + t, 250.0) for t in range(1, 101)]
    start, end = _window(samples, 0.0, 0.1), _window(samples, 0.9, 1.0)
    assert start.records_per_second == end.records_per_second == 10.0
    assert (start.tree_rss_mb, end.tree_rss_mb, end.largest_process_rss_mb) == (510.0, 600.0, 250.0)
    assert _window(samples[:2], 0.0, 0.1) is None  # nothing done yet: no rate to report

    growing = tmp_path / "out.jsonl"
    counter = _LineCounter(growing)
    assert counter.count() == 0  # not written yet
    growing.write_text("a\nb\n")
    assert counter.count() == 2
    with open(growing, "a") as handle:
        handle.write("c\npartial")
    assert counter.count() == 3
    assert _tree_rss_mb(os.getpid())[0] > 10
