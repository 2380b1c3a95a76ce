import pytest

from pipeline.evaluation.bench import BenchResult, bench_corpus, report
from tests.conftest import ROOT


def test_ratios_are_computed_from_one_run():
    results = [BenchResult("kiwi tokenization alone", 1000, 1.0, 100.0),
               BenchResult("full pipeline, 1 worker", 1000, 4.0, 900.0),
               BenchResult("full pipeline, 2 workers", 1000, 2.5, 800.0)]
    ratios = report(results)["ratios"]
    assert ratios["full_1_worker / kiwi_alone"] == 0.25
    assert ratios["full_2_workers / full_1_worker"] == 1.6


def test_start_up_is_told_apart_from_the_steady_rate():
    """A runner stage records when its first batch was written; the rate after it leaves start-up out."""
    from pipeline.evaluation.bench import _runner_result
    from pipeline.runtime.batch import Summary

    one = _runner_result("full pipeline, 1 worker", 1000, Summary(chars=1000, seconds=10.0, first_batch_seconds=6.0,
                                                                  first_batch_chars=200), 900.0)
    two = _runner_result("full pipeline, 2 workers", 1000, Summary(chars=1000, seconds=8.0, first_batch_seconds=6.0,
                                                                   first_batch_chars=200), 900.0)
    assert one.after_first_batch_cps == 200.0 and two.after_first_batch_cps == 400.0
    ratios = report([BenchResult("kiwi tokenization alone", 1000, 1.0, 100.0), one, two])["ratios"]
    assert ratios["full_2_workers / full_1_worker"] == 1.25
    assert ratios["full_2_workers / full_1_worker, after the first batch"] == 2.0


def test_corpus_repeats_real_text_to_size():
    records = bench_corpus(50_000, [ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl"])
    assert sum(len(r["text"]) for r in records) >= 50_000
    assert len({r["id"] for r in records}) == len(records)


@pytest.mark.slow
def test_one_run_measures_kiwi_the_model_per_backend_and_the_full_pipeline(shipped_model, onnx_model_dir):
    from pipeline.evaluation.bench import run_bench

    records = bench_corpus(3_000, [ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl"])
    from pipeline.encoder.build import EncoderConfig
    from pipeline.evaluation.bench import PEER_STAGE

    results = run_bench(records, str(shipped_model), workers=(1,), full_backends=("onnx-int8",),
                        onnx_dir=onnx_model_dir, big_article_chars=8_000, peer_encoder=EncoderConfig.load().output,
                        fast_linker=True)
    stages = {r.stage: r for r in results}
    big = "one big article, 1 worker, onnx-int8"
    fast = "full pipeline, 1 worker, onnx-int8, --linker fast"
    assert set(stages) == {"kiwi tokenization alone", "full pipeline, 1 worker, onnx-int8", "entity model alone, torch",
                           "entity model alone, onnx", "entity model alone, onnx-int8", big, PEER_STAGE, fast}
    chars = sum(len(r["text"]) for r in records)
    assert all(r.chars == chars and r.seconds > 0 for r in results if r.stage != big)
    assert stages[big].chars == 8_000 and stages[big].peak_rss_mb > 100
    assert stages["full pipeline, 1 worker, onnx-int8"].peak_rss_mb > 100  # a real worker loaded Kiwi and the model
    assert 0 < stages["full pipeline, 1 worker, onnx-int8"].first_batch_seconds <= stages["full pipeline, 1 worker, onnx-int8"].seconds
    ratios = report(results)["ratios"]
    for key in ("full_1_worker_onnx-int8 / kiwi_alone", "model_onnx / model_torch", "model_onnx-int8 / model_torch",
                "model_torch / kiwi_alone", "big_article_peak_rss_mb", "model_torch / bert_base_peer",
                "full_1_worker_onnx-int8 / bert_base_peer", "full_1_worker_onnx-int8_fast_linker / kiwi_alone"):
        assert ratios[key] > 0, key
    assert stages[fast].peak_rss_mb > 100
    # the 4x256 entity model is far smaller than BERT-base: if the peer is not slower, it is not BERT-base
    assert ratios["model_torch / bert_base_peer"] > 2
