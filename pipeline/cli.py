"""The `kfact` command line. Each command is a thin shell over one module."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Korean news fact extraction.")
console = Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@app.command()
def extract(
    inputs: list[Path] = typer.Argument(..., help="JSONL(.gz) files, .txt files or directories."),
    output: Path = typer.Option(..., "-o", "--output", help="Output JSONL, one line per input record."),
    rejects: Optional[Path] = typer.Option(None, help="Rejects JSONL (default: OUTPUT.rejects.jsonl)."),
    model: Optional[Path] = typer.Option(None, help="Entity model directory (default: the shipped model)."),
    resume: bool = typer.Option(False, help="Skip ids already in OUTPUT/rejects; cut a partial last line."),
    workers: int = typer.Option(1, min=1, help="Worker processes; each loads Kiwi and the model once."),
    batch_size: int = typer.Option(16, min=1),
    max_chars: int = typer.Option(1_000_000, help="Longer articles are rejected with a reason."),
    claims: bool = typer.Option(True, help="Run the relation step (claims)."),
) -> None:
    """Extract entities with normalized values, and claims, from news articles."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from pipeline.batch import BatchError, BatchOptions, run_batch

    options = BatchOptions(output=output, rejects=rejects, model_path=str(model) if model else None, resume=resume,
                           batch_size=batch_size, workers=workers, max_chars=max_chars, with_claims=claims)
    with Progress(TextColumn("[bold]extract"), BarColumn(bar_width=None), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=console, transient=not console.is_terminal) as progress:
        task = progress.add_task("", total=None)

        def on_progress(summary) -> None:
            rate = summary.written / summary.seconds if summary.seconds else 0.0
            progress.update(task, description=f"{summary.read} read, {summary.written} written, "
                                              f"{summary.rejected} rejected, {rate:.1f} articles/s")

        try:
            summary = run_batch(list(inputs), options, on_progress)
        except BatchError as error:
            _fail(str(error), code=3)
        except (FileNotFoundError, RuntimeError) as error:
            _fail(str(error), code=3)
    table = Table(title="kfact extract", show_header=False)
    for key, value in (("read", summary.read), ("written", summary.written), ("rejected", summary.rejected),
                       ("already done (resume)", summary.already_done), ("seconds", f"{summary.seconds:.1f}"),
                       ("articles/s", f"{summary.written / max(summary.seconds, 1e-9):.2f}"),
                       ("chars/s", f"{summary.chars / max(summary.seconds, 1e-9):.0f}"),
                       ("output", str(output)), ("rejects", str(options.rejects_path()))):
        table.add_row(key, str(value))
    for reason, count in sorted(summary.reasons.items(), key=lambda kv: -kv[1]):
        table.add_row(f"  rejected: {reason}", str(count))
    console.print(table)
    if not summary.balanced:
        _fail(f"counts do not add up: read {summary.read} != written + rejected + already done", code=4)


@app.command()
def train(
    config: Path = typer.Option(Path("configs/ner_default.toml"), help="Training config (TOML)."),
    output: Optional[Path] = typer.Option(None, help="Model directory (default: model.output_dir in the config)."),
    annotations: Optional[list[str]] = typer.Option(None, help="Annotation files or globs (repeatable)."),
    overwrite: bool = typer.Option(False, help="Replace an existing model directory."),
) -> None:
    """Train the entity model (KMOU + annotations), pick the best dev epoch, write a model directory."""
    from pipeline.annotation_io import AnnotationError
    from pipeline.train import TrainConfig
    from pipeline.train import train as run_training

    cfg = TrainConfig.from_toml(config)
    try:
        info = run_training(cfg, output, annotations, overwrite=overwrite, log=console.print)
    except (AnnotationError, FileExistsError, FileNotFoundError) as error:
        _fail(str(error))
    console.print(f"trained in {info['train_seconds']:.0f}s; best epoch {info['best_epoch']}")


@app.command("train-linker")
def train_linker_cmd(
    annotations: list[str] = typer.Option(["annotations/*.jsonl"], help="Gold claim files or globs."),
    output: Path = typer.Option(Path("models/kfact-linker/scorer.json")),
) -> None:
    """Learn the linker's subject and claim scorers from gold claims; report rules vs learned."""
    from pipeline.annotation_io import AnnotationError, load_annotations
    from pipeline.linker import ClaimLinker, RuleScorer, load_canonical_ids
    from pipeline.nlp import PROJECT_ROOT, blank_pipeline
    from pipeline.taxonomy import load_country_names, load_indicators
    from pipeline.train_linker import train_linker

    try:
        records = load_annotations(annotations, {i.id for i in load_indicators()})
    except AnnotationError as error:
        _fail(str(error))
    linker = ClaimLinker("kfact_linker", load_indicators(), load_country_names(),
                         load_canonical_ids(PROJECT_ROOT / "configs" / "entities.toml"), RuleScorer(), 0.5)
    report = train_linker(blank_pipeline(), linker, records, output, log=console.print)
    table = Table(title="claims on gold entities")
    for column in ("split", "scorer", "P", "R", "F1", "tp", "fp", "fn"):
        table.add_column(column)
    for split in ("dev", "test"):
        for scorer in ("rules", "learned"):
            m = report[scorer][split]
            table.add_row(split, scorer, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                          str(m["tp"]), str(m["fp"]), str(m["fn"]))
    console.print(table)
    console.print(f"threshold {report['best_threshold']} (swept on dev); wrote {output}")


@app.command()
def evaluate(
    gold: list[str] = typer.Option(..., help="Gold annotation files or globs."),
    model: Optional[Path] = typer.Option(None, help="Entity model directory (default: the shipped model)."),
    split: str = typer.Option("test", help="Which split of the gold files to score: train, dev, test or all."),
    report: Optional[Path] = typer.Option(None, help="Directory for metrics.json."),
) -> None:
    """Entity metrics (seqeval strict + partial) and claim metrics, end to end and on gold entities."""
    from pipeline.annotation_io import AnnotationError, load_annotations
    from pipeline.evaluate import claim_metrics, docs_with_gold_entities, entity_metrics, run_pipeline
    from pipeline.linker import RuleScorer
    from pipeline.nlp import load_pipeline
    from pipeline.taxonomy import load_indicators

    try:
        records = load_annotations(gold, {i.id for i in load_indicators()})
    except AnnotationError as error:
        _fail(str(error))
    if split != "all":
        records = [r for r in records if r.split == split]
    if not records:
        _fail(f"no gold records in split {split!r}")
    nlp = load_pipeline(str(model) if model else None)
    docs, chars_per_second = run_pipeline(nlp, records)
    entities = entity_metrics(records, docs)
    gold_claims = {r.id: list(r.claims) for r in records}
    linker = nlp.get_pipe("kfact_linker")
    oracle_docs = docs_with_gold_entities(nlp, records)
    claims = {}
    learned_scorer, learned_threshold = linker.scorer, linker.threshold
    for scorer_name, scorer, threshold in (("learned", learned_scorer, learned_threshold),
                                           ("rules", RuleScorer(), 0.5)):
        linker.scorer, linker.threshold = scorer, threshold
        claims[f"end to end, {scorer_name}"] = claim_metrics(
            gold_claims, {d._.article_id: [c for c, _ in linker.link(d)] for d in docs})
        claims[f"gold entities, {scorer_name}"] = claim_metrics(
            gold_claims, {d._.article_id: [c for c, _ in linker.link(d)] for d in oracle_docs})
    linker.scorer, linker.threshold = learned_scorer, learned_threshold

    table = Table(title=f"entities ({split}, {len(records)} records, strict span+label)")
    for column in ("label", "P", "R", "F1", "support"):
        table.add_column(column, justify="right" if column != "label" else "left")
    for label, m in sorted(entities["per_label"].items()):
        table.add_row(label, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
    for name in ("micro", "macro"):
        m = entities[name]
        table.add_row(f"[bold]{name}", f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
    m = entities["partial"]
    table.add_row("[italic]partial overlap", f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", "")
    console.print(table)
    claims_table = Table(title="claims (subject, indicator, year, unit; value within 0.5 %)")
    for column in ("linker", "P", "R", "F1", "tp", "fp", "fn"):
        claims_table.add_column(column)
    for name, result in claims.items():
        m = result["micro"]
        claims_table.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                             str(m["tp"]), str(m["fp"]), str(m["fn"]))
    console.print(claims_table)
    per_indicator = Table(title="claims per indicator (end to end, learned)")
    for column in ("indicator", "P", "R", "F1", "support"):
        per_indicator.add_column(column)
    for name, m in claims["end to end, learned"]["per_indicator"].items():
        per_indicator.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
    console.print(per_indicator)
    console.print(f"throughput: {chars_per_second:,.0f} chars/s")
    if report:
        report.mkdir(parents=True, exist_ok=True)
        payload = {"split": split, "records": len(records), "entities": entities,
                   "claims": {name: {k: v for k, v in result.items() if k != "details"} for name, result in claims.items()},
                   "chars_per_second": chars_per_second}
        (report / "metrics.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        console.print(f"wrote {report / 'metrics.json'}")


@app.command()
def validate(annotations: list[str] = typer.Argument(None, help="Annotation files or globs.")) -> None:
    """Check annotation files: offsets, overlaps, labels, indicator ids, duplicate ids."""
    from pipeline.annotation_io import AnnotationError, load_annotations
    from pipeline.taxonomy import load_indicators

    try:
        records = load_annotations(annotations or ["annotations/*.jsonl"], {i.id for i in load_indicators()})
    except AnnotationError as error:
        _fail(str(error))
    console.print(f"{len(records)} records OK: {sum(len(r.entities) for r in records)} entities, "
                  f"{sum(len(r.claims) for r in records)} claims")


@app.command()
def summarize(output: Path = typer.Argument(..., help="An extract output JSONL."),
              limit: int = typer.Option(15, help="How many claims to list.")) -> None:
    """A short summary of an extract output: entities per label and the top claims."""
    from collections import Counter

    labels, claims, records = Counter(), [], 0
    with open(output, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            records += 1
            labels.update(e["label"] for e in record["entities"])
            claims.extend((record["id"], c) for c in record["claims"])
    console.print(f"{records} records, {sum(labels.values())} entities "
                  f"({', '.join(f'{k} {v}' for k, v in labels.most_common())}), {len(claims)} claims")
    table = Table(title=f"claims (highest confidence {limit})")
    for column in ("record", "subject", "indicator", "year", "value", "unit", "conf"):
        table.add_column(column)
    for record_id, c in sorted(claims, key=lambda rc: -rc[1]["confidence"])[:limit]:
        table.add_row(record_id, f"{c['subject']['text']} ({c['subject']['id']})", c["indicator"]["id"],
                      str(c["year"]), f"{c['value']:,.6g}", str(c["unit"]), f"{c['confidence']:.2f}")
    console.print(table)


@app.command()
def bench(
    megabytes: float = typer.Option(2.0, help="Corpus size: shared news text repeated to this many MB of text."),
    model: Optional[Path] = typer.Option(None, help="Entity model directory (default: the shipped model)."),
    corpus: list[Path] = typer.Option([Path("../shared/data/external/kowikinews-boddari/wikinews.csv")],
                                      help="Text sources: a Wikinews-style CSV or an articles JSONL."),
    output: Optional[Path] = typer.Option(None, help="Write the report as JSON here too."),
) -> None:
    """Throughput of Kiwi alone vs the full pipeline with 1 and 2 workers, measured in one run."""
    from pipeline.bench import bench_corpus, report, run_bench

    records = bench_corpus(int(megabytes * 1_000_000 / 3), corpus)  # ~3 bytes per Hangul char in UTF-8
    result = report(run_bench(records, str(model) if model else None))
    table = Table(title=f"kfact bench — {result['date']}, {result['machine']}")
    for column in ("stage", "chars", "seconds", "chars/s", "peak RSS MB"):
        table.add_column(column)
    for stage in result["stages"]:
        table.add_row(stage["stage"], f"{stage['chars']:,}", f"{stage['seconds']:.1f}",
                      f"{stage['chars_per_second']:,}", f"{stage['peak_rss_mb']:.0f}")
    console.print(table)
    for name, value in result["ratios"].items():
        console.print(f"{name}: {value:.3f} (target {result['targets'][name]})")
    if output:
        output.write_text(json.dumps(result, indent=2), encoding="utf-8")


def main() -> None:  # pragma: no cover
    app(prog_name="kfact")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
