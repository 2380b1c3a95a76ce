from pipeline.bench import BenchResult, bench_corpus, report
from tests.conftest import ROOT


def test_ratios_are_computed_from_one_run():
    results = [BenchResult("kiwi tokenization alone", 1000, 1.0, 100.0),
               BenchResult("full pipeline, 1 worker", 1000, 4.0, 900.0),
               BenchResult("full pipeline, 2 workers", 1000, 2.5, 800.0)]
    ratios = report(results)["ratios"]
    assert ratios["full_1_worker / kiwi_alone"] == 0.25
    assert ratios["full_2_workers / full_1_worker"] == 1.6


def test_corpus_repeats_real_text_to_size():
    records = bench_corpus(50_000, [ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl"])
    assert sum(len(r["text"]) for r in records) >= 50_000
    assert len({r["id"] for r in records}) == len(records)
