"""kfact annotate, import: Label Studio / doccano tasks out and corrected exports in (pipeline/io/tasks.py)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli.render import console, fail


@app.command()
def annotate(
    inputs: list[Path] = typer.Argument(..., help="Inputs as for extract: JSONL(.gz), .txt, HTML, WARC, directories."),
    output: Path = typer.Option(..., "-o", "--output", help="Tasks file: Label Studio JSON array or doccano JSONL."),
    format: str = typer.Option("label-studio", "--format", help="label-studio or doccano."),
    model: Optional[Path] = typer.Option(None, help="Entity model: fast, accurate (configs/models.toml) or a directory (default: fast)."),
    rejects: Optional[Path] = typer.Option(None, help="Rejects JSONL (default: OUTPUT.rejects.jsonl)."),
    batch_size: int = typer.Option(16, min=1),
    workers: int = typer.Option(1, min=1, help="Worker processes, as for extract."),
) -> None:
    """Pre-annotate articles for Label Studio or doccano: entities as predictions, claims as relations.

    The articles go through the extract batch runner (same screening, rejects and reasons); its output is kept
    as OUTPUT.records.jsonl beside the tasks."""
    from pipeline.io.tasks import FORMATS, AnnotateStats, record_to_task, write_tasks
    from pipeline.paths import resolve_model
    from pipeline.runtime.batch import BatchError, BatchOptions, run_batch

    if format not in FORMATS:
        fail(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    version = resolve_model(model).name
    stats, tasks = AnnotateStats(), []
    options = BatchOptions(output=output.with_name(output.name + ".records.jsonl"),
                           rejects=rejects or output.with_name(output.name + ".rejects.jsonl"),
                           model_path=str(model) if model else None, batch_size=batch_size, workers=workers)
    try:
        summary = run_batch(list(inputs), options,
                            on_record=lambda article, record: tasks.append(
                                record_to_task(record, article.text, format, version, stats)))
    except (BatchError, FileNotFoundError, RuntimeError) as error:
        fail(str(error), code=3)
    written = write_tasks(tasks, output, format)
    console.print(f"{summary.read} read, {stats.tasks} tasks, {summary.rejected} rejected ({options.rejects_path()}); "
                  f"{stats.entities} entities, {stats.relations} relations; {stats.claims_without_subject_span} "
                  f"claims left out (subject not an entity span: carried over or 국내/우리나라)")
    console.print("wrote " + ", ".join(str(p) for p in written))
    if summary.read != stats.tasks + summary.rejected:
        fail(f"counts do not add up: read {summary.read} != tasks {stats.tasks} + rejected {summary.rejected}", code=4)


@app.command("import")
def import_cmd(
    export: Path = typer.Argument(..., help="A Label Studio JSON export or a doccano JSONL export."),
    output: Path = typer.Option(..., "-o", "--output", help="Annotation JSONL to write (annotations/<name>.jsonl)."),
    format: str = typer.Option("label-studio", "--format", help="label-studio or doccano."),
    split: str = typer.Option("train", help="Split written into every record: train, dev or test."),
    use_predictions: bool = typer.Option(False, help="Label Studio: import a task without annotations from its "
                                                     "predictions (as pre-annotated, unreviewed)."),
    existing: list[str] = typer.Option(["annotations/*.jsonl"], help="Annotation files whose ids must not repeat."),
    overwrite: bool = typer.Option(False, help="Replace OUTPUT if it exists."),
) -> None:
    """Corrected Label Studio/doccano export -> project annotation JSONL. Bad tasks are listed, never dropped
    silently: good tasks are written, bad ones go to OUTPUT.rejects.jsonl with every problem, exit code 1."""
    from pipeline.io.annotations import AnnotationError, write_annotations
    from pipeline.io.tasks import FORMATS, existing_annotation_ids, import_export

    if format not in FORMATS:
        fail(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if not export.is_file():
        fail(f"{export} does not exist")
    if output.exists() and not overwrite:
        fail(f"{output} exists; pass --overwrite to replace it")
    try:
        result = import_export(export, format, split, use_predictions, existing_annotation_ids(existing, output))
    except (AnnotationError, ValueError) as error:
        fail(str(error))
    output.parent.mkdir(parents=True, exist_ok=True)
    write_annotations(result.records, output)
    rejects_path = output.with_name(output.name + ".rejects.jsonl")
    if result.rejected:
        rejects_path.write_text("".join(json.dumps({k: r[k] for k in ("id", "source", "reason")}, ensure_ascii=False)
                                        + "\n" for r in result.rejected), encoding="utf-8")
    elif rejects_path.exists():
        rejects_path.unlink()  # a stale list from an earlier run would mislead
    console.print(f"{result.read} tasks read: {len(result.records)} imported "
                  f"({sum(len(r.entities) for r in result.records)} entities, "
                  f"{sum(len(r.claims) for r in result.records)} claims) to {output}; {len(result.rejected)} rejected")
    for rejected in result.rejected:
        console.print(f"[bold red]rejected[/] {rejected['source']} (id {rejected['id']!r}):")
        for problem in rejected["problems"]:
            console.print(f"  - {problem}")
    if result.rejected:
        console.print(f"rejected tasks listed in {rejects_path}; fix them in the tool and import again")
        raise typer.Exit(1)
