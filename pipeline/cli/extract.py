"""kfact extract: articles in, entities and claims out (pipeline/runtime/batch.py, Ray in runtime/ray_engine.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli.render import console, fail, print_extract_summary


@app.command()
def extract(
    inputs: list[Path] = typer.Argument(..., help="JSONL(.gz), .txt, .html/.htm, WARC(.gz) files or directories."),
    output: Path = typer.Option(..., "-o", "--output", help="OUT.jsonl (one line per record), OUT.duckdb (a "
                                                             "database with the facts view) or OUT.parquet / a "
                                                             "directory (Parquet tables): the format follows the name."),
    rejects: Optional[Path] = typer.Option(None, help="Rejects JSONL (default: OUTPUT.rejects.jsonl)."),
    model: Optional[Path] = typer.Option(None, help="Entity model: fast, accurate (configs/models.toml) or a directory (default: fast)."),
    resume: bool = typer.Option(False, help="Skip ids already in OUTPUT/rejects; cut a partial last line."),
    workers: int = typer.Option(1, min=1, help="Worker processes; each loads Kiwi and the model once."),
    batch_size: int = typer.Option(16, min=1),
    max_chars: int = typer.Option(1_000_000, help="Longer articles are rejected with a reason."),
    claims: bool = typer.Option(True, help="Run the relation step (claims)."),
    # -- queryable outputs (pipeline/io/store.py): built from the JSONL journal at the end of the run
    fmt: Optional[str] = typer.Option(None, "--format", help="jsonl | parquet | duckdb (default: from -o's name). "
                                                              "With -o OUT.jsonl, parquet/duckdb also write OUT/ or "
                                                              "OUT.duckdb beside the JSONL."),
    tables: Optional[Path] = typer.Option(None, help="Directory for articles/entities/claims.parquet."),
    db: Optional[Path] = typer.Option(None, help="DuckDB file with the tables and the facts view."),
    append: bool = typer.Option(False, "--append", help="Add this crawl to an existing database (-o/--db) "
                                                        "instead of rebuilding it."),
    on_duplicate: str = typer.Option("skip", help="With --append, an article id already stored: skip | replace."),
    backend: Optional[str] = typer.Option(None, help="Entity model runtime: torch | onnx (default: configs/pipeline.cfg)."),
    linker: Optional[str] = typer.Option(None, help="Relation step: fast (e5's static piece table) or accurate (e5 in "
                                                    "torch), configs/models.toml [linkers] (default: accurate)."),
    onnx_path: Optional[Path] = typer.Option(None, help="ONNX graph for --backend onnx (default: MODEL/model.onnx; "
                                                         "see kfact export-onnx)."),
    # -- Ray Data engine (pipeline/runtime/ray_engine.py): same records, the model work spread over Ray actors
    engine: str = typer.Option("local", help="local (worker processes here) | ray (Ray Data actors; same output)."),
    ray_address: Optional[str] = typer.Option(None, help="Existing Ray cluster for --engine ray (auto, ray://HOST:PORT); "
                                                         "default: start a local one."),
    ray_actors: Optional[int] = typer.Option(None, min=1, help="Ray actors, one CPU and one model each (default: "
                                                               "--workers if > 1, else every CPU of the cluster)."),
    # -- crawl duplicates (pipeline/runtime/dedupe.py): exact duplicates are always rejected; near ones on request
    near_duplicates: Optional[float] = typer.Option(
        None, min=0.5, max=1.0, help="Also reject articles whose MinHash Jaccard (char 5-grams) with an earlier one "
                                     "reaches this, e.g. 0.9 (default: off)."),
) -> None:
    """Extract entities with normalized values, and claims, from news articles."""
    from pipeline.io.outputs import plan_outputs
    from pipeline.runtime.batch import BatchError, BatchOptions, run_batch
    from pipeline.runtime.progress import count_records, extract_progress

    if engine not in ("local", "ray"):
        fail(f"--engine must be local or ray, not {engine!r}")
    try:
        plan = plan_outputs(output, fmt, tables, db)
    except ValueError as error:
        fail(f"--format: {error}")
    tables, db = plan.tables, plan.db

    options = BatchOptions(output=plan.journal, rejects=rejects, model_path=str(model) if model else None, resume=resume,
                           batch_size=batch_size, workers=workers, max_chars=max_chars, with_claims=claims,
                           config_overrides=backend_overrides(backend, onnx_path, model) | linker_preset_overrides(linker),
                           near_duplicates=near_duplicates)
    with extract_progress(console) as progress:
        # A known total (cheap line/file count) gives the bar an ETA; large inputs run without one.
        task = progress.add_task("", total=count_records(list(inputs)))

        def on_progress(summary) -> None:
            rate = summary.written / summary.seconds if summary.seconds else 0.0
            progress.update(task, completed=summary.read,
                            description=f"{summary.written} written, {summary.rejected} rejected, {rate:.1f} articles/s")

        try:
            if engine == "ray":
                summary = _run_ray(list(inputs), options, on_progress, ray_address,
                                   ray_actors or (workers if workers > 1 else None))
            else:
                summary = run_batch(list(inputs), options, on_progress)
        except BatchError as error:
            fail(str(error), code=3)
        except (FileNotFoundError, RuntimeError) as error:
            fail(str(error), code=3)
    print_extract_summary(summary, plan.journal, options.rejects_path())
    if not summary.balanced:
        fail(f"counts do not add up: read {summary.read} != written + rejected + already done; the JSONL journal "
             f"{plan.journal} is kept for --resume", code=4)
    if tables or db:
        from pipeline.cli.store import export_tables

        if on_duplicate not in ("skip", "replace"):
            fail(f"--on-duplicate must be skip or replace, not {on_duplicate!r}")
        export_tables(plan.journal, tables, db, on_duplicate if append else None)
        if not plan.journal_requested:
            # the run is complete and its tables are built: the journal was only what --resume would need
            plan.journal.unlink(missing_ok=True)
            console.print(f"[dim]the run's JSONL journal {plan.journal} was removed (a killed run keeps it for "
                          f"--resume)[/dim]")


def _run_ray(inputs: list[Path], options, on_progress, address: Optional[str], actors: Optional[int]):
    """`extract --engine ray`: run_batch with the Ray Data engine inside a Ray session.

    Failures are raised as BatchError: extract reports those (a typer.Exit here would be caught there too)."""
    from pipeline.runtime.batch import BatchError, run_batch

    try:
        import ray  # noqa: F401  (an optional heavy dependency: fail with the install hint)
    except ImportError as error:
        raise BatchError(f"--engine ray needs Ray Data: pip install 'kfact[ray]' ({error})") from error
    from pipeline.runtime.ray_engine import RayOptions, ray_engine, ray_session

    ray_options = RayOptions(address=address, actors=actors)
    try:
        with ray_session(ray_options):
            return run_batch(inputs, options, on_progress, engine=ray_engine(ray_options))
    except ConnectionError as error:
        raise BatchError(f"cannot connect to the Ray cluster at {address}: {error}") from error


def linker_preset_overrides(linker: Optional[str]) -> dict:
    """--linker as kfact_linker config overrides; an unknown name fails here, before any worker starts."""
    from pipeline.paths import linker_overrides

    try:
        return linker_overrides(linker)
    except ValueError as error:
        fail(str(error))


def backend_overrides(backend: Optional[str], onnx_path: Optional[Path], model: Optional[Path]) -> dict:
    """--backend/--onnx-path as kfact_ner config overrides; a missing graph fails here, before any worker starts."""
    from pipeline.ner.backends import BACKENDS, resolve_onnx_path
    from pipeline.paths import resolve_model

    overrides = {}
    if backend is not None:
        if backend not in BACKENDS:
            fail(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        overrides["components.kfact_ner.backend"] = backend
    if onnx_path is not None:
        overrides["components.kfact_ner.onnx_path"] = str(onnx_path)
    if backend == "onnx":
        model_dir = resolve_model(model)
        graph = resolve_onnx_path(model_dir, onnx_path)
        if not graph.is_file():
            fail(f"no ONNX graph at {graph}: run `kfact export-onnx --model {model_dir}` first "
                 f"(add --quantize for model.int8.onnx)")
        overrides["components.kfact_ner.onnx_path"] = str(graph)
    return overrides
