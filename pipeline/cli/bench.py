"""kfact bench, fuzz: throughput in one run, and hostile input through the real extract (pipeline/evaluation/)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli.render import fail, print_bench, print_fuzz


@app.command()
def bench(
    megabytes: float = typer.Option(2.0, help="Corpus size: shared news text repeated to this many MB of text."),
    model: Optional[Path] = typer.Option(None, help="Entity model: fast, accurate (configs/models.toml) or a directory (default: fast)."),
    corpus: list[Path] = typer.Option([Path("../shared/data/external/kowikinews-boddari/wikinews.csv")],
                                      help="Text sources: a Wikinews-style CSV or an articles JSONL."),
    output: Optional[Path] = typer.Option(None, help="Write the report as JSON here too."),
    backends: str = typer.Option("torch,onnx-int8", help="Entity model backends for the full-pipeline stages "
                                                         "(comma-separated: torch, onnx, onnx-int8)."),
    big_article_chars: int = typer.Option(1_000_000, help="One article of this many characters through one "
                                                          "worker, for peak memory (0: skip)."),
    peer: bool = typer.Option(True, "--peer/--no-peer", help="Also time a BERT-base token classifier (model only), "
                                                             "the peer every path is compared with."),
    fast_linker: bool = typer.Option(True, "--fast-linker/--no-fast-linker",
                                     help="Also time 1 worker with --linker fast (static piece table)."),
) -> None:
    """Throughput of Kiwi alone, the entity model alone (torch / ONNX / ONNX int8), the full pipeline
    with 1 and 2 workers and a BERT-base peer, measured in one run."""
    from pipeline.encoder.build import EncoderConfig
    from pipeline.evaluation.bench import BACKENDS, bench_corpus, report, run_bench

    full_backends = tuple(b.strip() for b in backends.split(",") if b.strip())
    if unknown := [b for b in full_backends if b not in BACKENDS]:
        fail(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")
    records = bench_corpus(int(megabytes * 1_000_000 / 3), corpus)  # ~3 bytes per Hangul char in UTF-8
    result = report(run_bench(records, str(model) if model else None, full_backends=full_backends,
                              big_article_chars=big_article_chars,
                              peer_encoder=EncoderConfig.load().output if peer else None,
                              fast_linker=fast_linker))
    print_bench(result)
    if output:
        output.write_text(json.dumps(result, indent=2), encoding="utf-8")


@app.command()
def fuzz(
    records: int = typer.Option(10_000, min=10, help="How many hostile records to generate."),
    output_dir: Path = typer.Option(..., "-o", "--output-dir", help="Where the inputs, output and rejects go."),
    seed: int = typer.Option(0, help="Random seed: the same seed writes the same records."),
    model: Optional[Path] = typer.Option(None, help="Entity model: fast, accurate (configs/models.toml) or a directory (default: fast)."),
    workers: int = typer.Option(1, min=1, help="Passed to kfact extract."),
    max_chars: int = typer.Option(20_000, help="Passed to kfact extract; the fuzz's over-long lines exceed it."),
    report: Optional[Path] = typer.Option(None, help="Write the report as JSON here too."),
    claims: bool = typer.Option(True, "--claims/--no-claims", help="Passed to kfact extract (--no-claims: no linker)."),
) -> None:
    """Generate hostile records, run the real `kfact extract` on them, report crashes and whether the counts add up,
    with RSS and records/s over the first and the last tenth of the run (a soak)."""
    from pipeline.evaluation.fuzz import run_fuzz

    result = run_fuzz(output_dir, records=records, seed=seed, model=str(model) if model else None, workers=workers,
                      max_chars=max_chars, claims=claims)
    print_fuzz(result, seed)
    if report:
        report.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
    if not result.ok:
        raise typer.Exit(1)
