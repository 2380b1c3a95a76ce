"""kfact evaluate, compare, validate: gold annotations against the pipeline (pipeline/evaluation/)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli.render import console, fail, print_comparison, print_evaluation


def load_gold(gold: list[str], split: str) -> list:
    from pipeline.io.annotations import AnnotationError, load_annotations
    from pipeline.linking.taxonomy import load_indicators

    try:
        records = load_annotations(gold, {i.id for i in load_indicators()})
    except AnnotationError as error:
        fail(str(error))
    if split != "all":
        records = [r for r in records if r.split == split]
    if not records:
        fail(f"no gold records in split {split!r}")
    return records


def evaluate_models(gold: list[str], models: list, split: str, report: Optional[Path],
                    linker: Optional[str] = None) -> list:
    """Evaluate each model on the same gold records; print tables; write metrics.json + index.html."""
    from pipeline.evaluation.metrics import compare_results, evaluate_model

    from pipeline.cli.extract import linker_preset_overrides
    from pipeline.paths import resolve_model

    overrides = linker_preset_overrides(linker)
    records = load_gold(gold, split)
    models = [resolve_model(path) if path is not None else None for path in models]
    for path in models:
        if path is not None and not (Path(path) / "config.json").is_file():
            fail(f"{path} is not a model directory (no config.json)")
    results = [evaluate_model(records, path, split, overrides) for path in models]
    print_evaluation(results[0], split)
    comparison = compare_results(results)
    if comparison:
        print_comparison(comparison)
    if report:
        from pipeline.evaluation.report import write_report

        report.mkdir(parents=True, exist_ok=True)
        payload = results[0].to_json()
        if comparison:
            payload |= {"models": [r.to_json() for r in results], "comparison": comparison}
        (report / "metrics.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        page = write_report(report, results, comparison, gold)
        console.print(f"wrote {report / 'metrics.json'} and {page}")
    return results


@app.command()
def evaluate(
    gold: list[str] = typer.Option(..., help="Gold annotation files or globs."),
    model: Optional[list[Path]] = typer.Option(
        None, help="Entity model: fast, accurate (configs/models.toml) or a directory (default: fast). Repeat to compare: the first is the baseline."),
    split: str = typer.Option("test", help="Which split of the gold files to score: train, dev, test, blind or all."),
    report: Optional[Path] = typer.Option(None, help="Directory for metrics.json and the HTML report index.html."),
    linker: Optional[str] = typer.Option(None, help="Relation step: fast, accurate (configs/models.toml [linkers]; "
                                                    "default: configs/pipeline.cfg's, accurate)."),
) -> None:
    """Entity metrics (seqeval strict + partial) and claim metrics, end to end and on gold entities."""
    evaluate_models(gold, list(model or []) or [None], split, report, linker)


@app.command()
def compare(
    models: list[Path] = typer.Argument(..., help="Two or more model directories; the first is the baseline."),
    gold: list[str] = typer.Option(["annotations/*.jsonl"], help="Gold annotation files or globs."),
    split: str = typer.Option("test", help="Which split of the gold files to score: train, dev, test, blind or all."),
    report: Optional[Path] = typer.Option(None, help="Directory for metrics.json and the HTML report index.html."),
) -> None:
    """Per-label F1 and claim F1 of several models on the same gold, with deltas against the first."""
    if len(models) < 2:
        fail("compare needs at least two model directories")
    evaluate_models(gold, list(models), split, report)


@app.command()
def validate(annotations: list[str] = typer.Argument(None, help="Annotation files or globs.")) -> None:
    """Check annotation files: offsets, overlaps, labels, indicator ids, duplicate ids, article-level splits."""
    from pipeline.io.annotations import AnnotationError, load_annotations
    from pipeline.linking.taxonomy import load_indicators

    try:
        records = load_annotations(annotations or ["annotations/*.jsonl"], {i.id for i in load_indicators()})
    except AnnotationError as error:
        fail(str(error))
    console.print(f"{len(records)} records OK: {sum(len(r.entities) for r in records)} entities, "
                  f"{sum(len(r.claims) for r in records)} claims")
