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
    inputs: list[Path] = typer.Argument(..., help="JSONL(.gz), .txt, .html/.htm, WARC(.gz) files or directories."),
    output: Path = typer.Option(..., "-o", "--output", help="Output JSONL, one line per input record."),
    rejects: Optional[Path] = typer.Option(None, help="Rejects JSONL (default: OUTPUT.rejects.jsonl)."),
    model: Optional[Path] = typer.Option(None, help="Entity model directory (default: the shipped model)."),
    resume: bool = typer.Option(False, help="Skip ids already in OUTPUT/rejects; cut a partial last line."),
    workers: int = typer.Option(1, min=1, help="Worker processes; each loads Kiwi and the model once."),
    batch_size: int = typer.Option(16, min=1),
    max_chars: int = typer.Option(1_000_000, help="Longer articles are rejected with a reason."),
    claims: bool = typer.Option(True, help="Run the relation step (claims)."),
    # -- queryable outputs (pipeline/store.py): built from the JSONL journal at the end of the run
    fmt: str = typer.Option("jsonl", "--format", help="jsonl | parquet (tables in --tables, default OUT/) | "
                                                      "duckdb (--db, default OUT.duckdb). The JSONL is always written."),
    tables: Optional[Path] = typer.Option(None, help="Directory for articles/entities/claims.parquet."),
    db: Optional[Path] = typer.Option(None, help="DuckDB file with the tables and the facts view."),
    backend: Optional[str] = typer.Option(None, help="Entity model runtime: torch | onnx (default: configs/pipeline.cfg)."),
    onnx_path: Optional[Path] = typer.Option(None, help="ONNX graph for --backend onnx (default: MODEL/model.onnx; "
                                                         "see kfact export-onnx)."),
    # -- Ray Data engine (pipeline/ray_engine.py): same records, the model work spread over Ray actors
    engine: str = typer.Option("local", help="local (worker processes here) | ray (Ray Data actors; same output)."),
    ray_address: Optional[str] = typer.Option(None, help="Existing Ray cluster for --engine ray (auto, ray://HOST:PORT); "
                                                         "default: start a local one."),
    ray_actors: Optional[int] = typer.Option(None, min=1, help="Ray actors, one CPU and one model each (default: "
                                                               "--workers if > 1, else every CPU of the cluster)."),
    # -- crawl duplicates (pipeline/cleaning.py): exact duplicates are always rejected; near ones on request
    near_duplicates: Optional[float] = typer.Option(
        None, min=0.5, max=1.0, help="Also reject articles whose MinHash Jaccard (char 5-grams) with an earlier one "
                                     "reaches this, e.g. 0.9 (default: off)."),
) -> None:
    """Extract entities with normalized values, and claims, from news articles."""
    from pipeline.batch import BatchError, BatchOptions, run_batch
    from pipeline.progress import count_records, extract_progress
    from pipeline.store import default_paths

    if fmt not in ("jsonl", "parquet", "duckdb"):
        _fail(f"--format must be jsonl, parquet or duckdb, not {fmt!r}")
    if engine not in ("local", "ray"):
        _fail(f"--engine must be local or ray, not {engine!r}")
    default_tables, default_db = default_paths(output, fmt)
    tables, db = tables or default_tables, db or default_db

    options = BatchOptions(output=output, rejects=rejects, model_path=str(model) if model else None, resume=resume,
                           batch_size=batch_size, workers=workers, max_chars=max_chars, with_claims=claims,
                           config_overrides=_backend_overrides(backend, onnx_path, model),
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
    skipped = getattr(summary, "skipped", {})  # WARC requests, images, ...: not articles, so outside `read`
    if skipped:
        table.add_row("skipped (not articles)", str(sum(skipped.values())))
    for reason, count in sorted(skipped.items(), key=lambda kv: -kv[1]):
        table.add_row(f"  skipped: {reason}", str(count))
    console.print(table)
    if not summary.balanced:
        _fail(f"counts do not add up: read {summary.read} != written + rejected + already done", code=4)
    if tables or db:
        _export_tables(output, tables, db)


def _run_ray(inputs: list[Path], options, on_progress, address: Optional[str], actors: Optional[int]):
    """`extract --engine ray`: run_batch with the Ray Data engine inside a Ray session.

    Failures are raised as BatchError: extract reports those (a typer.Exit here would be caught there too)."""
    from pipeline.batch import BatchError, run_batch

    try:
        import ray  # noqa: F401  (an optional heavy dependency: fail with the install hint)
    except ImportError as error:
        raise BatchError(f"--engine ray needs Ray Data: pip install 'kfact[ray]' ({error})") from error
    from pipeline.ray_engine import RayOptions, ray_engine, ray_session

    ray_options = RayOptions(address=address, actors=actors)
    try:
        with ray_session(ray_options):
            return run_batch(inputs, options, on_progress, engine=ray_engine(ray_options))
    except ConnectionError as error:
        raise BatchError(f"cannot connect to the Ray cluster at {address}: {error}") from error


@app.command()
def train(
    config: Path = typer.Option(Path("configs/ner_default.toml"), help="Training config (TOML)."),
    output: Optional[Path] = typer.Option(None, help="Model directory (default: model.output_dir in the config)."),
    annotations: Optional[list[str]] = typer.Option(None, help="Annotation files or globs (repeatable)."),
    overwrite: bool = typer.Option(False, help="Replace an existing model directory."),
    guard: bool = typer.Option(True, help="Regression guard: compare the new model with --baseline on the test split."),
    baseline: Optional[Path] = typer.Option(None, help="Model the guard compares with (default: the shipped model)."),
    guard_gold: list[str] = typer.Option(["annotations/*.jsonl"], help="Gold files whose fixed test split the guard scores."),
    max_f1_drop: Optional[float] = typer.Option(None, help="Exit 5 when the guard's entity micro F1 drops by more."),
    resume: bool = typer.Option(False, help="Continue from the checkpoint an interrupted run left in OUTPUT.tmp/."),
) -> None:
    """Train the entity model (KMOU + annotations), pick the best dev epoch, write a model directory;
    then compare it with the current model on the fixed test split (per-label deltas)."""
    from pipeline.annotation_io import AnnotationError
    from pipeline.train import TrainConfig
    from pipeline.train import train as run_training

    cfg = TrainConfig.from_toml(config)
    try:
        # collect_records reads the annotation files first: a bad span stops it before any corpus or training.
        info = run_training(cfg, output, annotations, overwrite=overwrite, log=console.print, resume=resume)
    except (AnnotationError, FileExistsError, FileNotFoundError) as error:
        _fail(str(error))
    console.print(f"trained in {info['train_seconds']:.0f}s; best epoch {info['best_epoch']}")
    if guard:
        _regression_guard(Path(output or cfg.model.output_dir), baseline, guard_gold, max_f1_drop)


def _regression_guard(new_model: Path, baseline: Optional[Path], gold: list[str], max_f1_drop: Optional[float]) -> None:
    """New vs current model on the fixed test split: per-label deltas printed and kept as regression.json."""
    from pipeline.evaluate import compare_results, evaluate_model
    from pipeline.nlp import DEFAULT_MODEL

    baseline = Path(baseline or DEFAULT_MODEL)
    if not (baseline / "config.json").is_file() or baseline.resolve() == new_model.resolve():
        console.print(f"regression guard skipped: no other model at {baseline} to compare with")
        return
    records = _load_gold(gold, "test")
    console.print(f"regression guard: {new_model} vs {baseline} on {len(records)} test records of {', '.join(gold)}")
    comparison = compare_results([evaluate_model(records, baseline), evaluate_model(records, new_model)])
    print_comparison(comparison)
    (new_model / "regression.json").write_text(json.dumps(comparison, indent=2, ensure_ascii=False), encoding="utf-8")
    micro = next(row for row in comparison["entities"] if row["label"] == "micro")["delta"][1]
    console.print(f"entity micro F1 {micro:+.3f} against {baseline}; wrote {new_model / 'regression.json'}")
    if max_f1_drop is not None and micro < -max_f1_drop:
        _fail(f"regression: entity micro F1 dropped by {-micro:.3f} (> --max-f1-drop {max_f1_drop}); "
              f"the model stays in {new_model} but should not replace {baseline}", code=5)


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
    indicator = report["best_indicator_min_score"]
    console.print(f"threshold {report['best_threshold']}; indicator choice: "
                  f"{'rules' if indicator is None else f'learned, minimum score {indicator}'} (chosen on dev); wrote {output}")


@app.command()
def evaluate(
    gold: list[str] = typer.Option(..., help="Gold annotation files or globs."),
    model: Optional[list[Path]] = typer.Option(
        None, help="Entity model directory (default: the shipped model). Repeat to compare: the first is the baseline."),
    split: str = typer.Option("test", help="Which split of the gold files to score: train, dev, test or all."),
    report: Optional[Path] = typer.Option(None, help="Directory for metrics.json and the HTML report index.html."),
) -> None:
    """Entity metrics (seqeval strict + partial) and claim metrics, end to end and on gold entities."""
    _evaluate_models(gold, list(model or []) or [None], split, report)


@app.command()
def compare(
    models: list[Path] = typer.Argument(..., help="Two or more model directories; the first is the baseline."),
    gold: list[str] = typer.Option(["annotations/*.jsonl"], help="Gold annotation files or globs."),
    split: str = typer.Option("test", help="Which split of the gold files to score: train, dev, test or all."),
    report: Optional[Path] = typer.Option(None, help="Directory for metrics.json and the HTML report index.html."),
) -> None:
    """Per-label F1 and claim F1 of several models on the same gold, with deltas against the first."""
    if len(models) < 2:
        _fail("compare needs at least two model directories")
    _evaluate_models(gold, list(models), split, report)


def _load_gold(gold: list[str], split: str) -> list:
    from pipeline.annotation_io import AnnotationError, load_annotations
    from pipeline.taxonomy import load_indicators

    try:
        records = load_annotations(gold, {i.id for i in load_indicators()})
    except AnnotationError as error:
        _fail(str(error))
    if split != "all":
        records = [r for r in records if r.split == split]
    if not records:
        _fail(f"no gold records in split {split!r}")
    return records


def _evaluate_models(gold: list[str], models: list, split: str, report: Optional[Path]) -> list:
    """Evaluate each model on the same gold records; print tables; write metrics.json + index.html."""
    from pipeline.evaluate import compare_results, evaluate_model

    records = _load_gold(gold, split)
    for path in models:
        if path is not None and not (Path(path) / "config.json").is_file():
            _fail(f"{path} is not a model directory (no config.json)")
    results = [evaluate_model(records, path, split) for path in models]
    main = results[0]
    entities, claims = main.entities, main.claims
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
    console.print(f"throughput: {main.chars_per_second:,.0f} chars/s ({main.chars:,} chars in {main.seconds:.1f} s)")
    comparison = compare_results(results)
    if comparison:
        print_comparison(comparison)
    if report:
        from pipeline.report import write_report

        report.mkdir(parents=True, exist_ok=True)
        payload = main.to_json()
        if comparison:
            payload |= {"models": [r.to_json() for r in results], "comparison": comparison}
        (report / "metrics.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        page = write_report(report, results, comparison, gold)
        console.print(f"wrote {report / 'metrics.json'} and {page}")
    return results


def print_comparison(comparison: dict) -> None:
    """Per-label F1 of each model and deltas against the first (rich table), then claim F1."""
    names = [Path(m).name or str(m) for m in comparison["models"]]
    table = Table(title=f"per-label F1, Δ against {names[0]}")
    table.add_column("label")
    table.add_column("support", justify="right")
    for name in names:
        table.add_column(f"F1 {name}", justify="right")
    for name in names[1:]:
        table.add_column(f"Δ {name}", justify="right")

    def delta(value: float) -> str:
        color = "green" if value > 0.0005 else "red" if value < -0.0005 else "white"
        return f"[{color}]{value:+.3f}"

    for row in comparison["entities"]:
        table.add_row(row["label"], "" if row["support"] is None else str(row["support"]), *[f"{v:.3f}" for v in row["f1"]],
                      *[delta(d) for d in row["delta"][1:]])
    console.print(table)
    claims = Table(title="claim F1, Δ against the first model")
    claims.add_column("linker")
    for name in names:
        claims.add_column(f"F1 {name}", justify="right")
    for name in names[1:]:
        claims.add_column(f"Δ {name}", justify="right")
    for row in comparison["claims"]:
        claims.add_row(row["linker"], *[f"{v:.3f}" for v in row["f1"]], *[delta(d) for d in row["delta"][1:]])
    console.print(claims)


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
    backends: str = typer.Option("torch,onnx-int8", help="Entity model backends for the full-pipeline stages "
                                                         "(comma-separated: torch, onnx, onnx-int8)."),
) -> None:
    """Throughput of Kiwi alone, the entity model alone (torch / ONNX / ONNX int8) and the full pipeline
    with 1 and 2 workers, measured in one run."""
    from pipeline.bench import BACKENDS, bench_corpus, report, run_bench

    full_backends = tuple(b.strip() for b in backends.split(",") if b.strip())
    if unknown := [b for b in full_backends if b not in BACKENDS]:
        _fail(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")
    records = bench_corpus(int(megabytes * 1_000_000 / 3), corpus)  # ~3 bytes per Hangul char in UTF-8
    result = report(run_bench(records, str(model) if model else None, full_backends=full_backends))
    table = Table(title=f"kfact bench — {result['date']}, {result['machine']}")
    for column in ("stage", "chars", "seconds", "chars/s", "peak RSS MB"):
        table.add_column(column)
    for stage in result["stages"]:
        table.add_row(stage["stage"], f"{stage['chars']:,}", f"{stage['seconds']:.1f}",
                      f"{stage['chars_per_second']:,}", f"{stage['peak_rss_mb']:.0f}")
    console.print(table)
    for name, value in result["ratios"].items():
        target = result["targets"].get(name)
        console.print(f"{name}: {value:.3f}" + (f" (target {target})" if target else ""))
    if output:
        output.write_text(json.dumps(result, indent=2), encoding="utf-8")


# -- ONNX Runtime backend for the entity model (pipeline/onnx_export.py) ---------------------------

def _backend_overrides(backend: Optional[str], onnx_path: Optional[Path], model: Optional[Path]) -> dict:
    """--backend/--onnx-path as kfact_ner config overrides; a missing graph fails here, before any worker starts."""
    from pipeline.entity_model import BACKENDS, resolve_onnx_path
    from pipeline.nlp import DEFAULT_MODEL, resolve_path

    overrides = {}
    if backend is not None:
        if backend not in BACKENDS:
            _fail(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        overrides["components.kfact_ner.backend"] = backend
    if onnx_path is not None:
        overrides["components.kfact_ner.onnx_path"] = str(onnx_path)
    if backend == "onnx":
        model_dir = resolve_path(model) if model else DEFAULT_MODEL
        graph = resolve_onnx_path(model_dir, onnx_path)
        if not graph.is_file():
            _fail(f"no ONNX graph at {graph}: run `kfact export-onnx --model {model_dir}` first "
                  f"(add --quantize for model.int8.onnx)")
        overrides["components.kfact_ner.onnx_path"] = str(graph)
    return overrides


@app.command("export-onnx")
def export_onnx_cmd(
    model: Optional[Path] = typer.Option(None, help="Entity model directory (default: the shipped model)."),
    output: Optional[Path] = typer.Option(None, help="Directory for model.onnx (default: the model directory; "
                                                     "*.onnx files under models/ are git-ignored)."),
    quantize: bool = typer.Option(False, help="Also write model.int8.onnx (dynamic int8 quantization)."),
) -> None:
    """Export the entity model to ONNX (dynamic batch and sequence axes), checked against torch."""
    from pipeline.nlp import DEFAULT_MODEL, resolve_path
    from pipeline.onnx_export import export_onnx

    model_dir = resolve_path(model) if model else DEFAULT_MODEL
    try:
        result = export_onnx(model_dir, output, quantize=quantize)
    except (FileNotFoundError, RuntimeError) as error:
        _fail(str(error), code=3)
    console.print(f"wrote {result.fp32} ({result.fp32.stat().st_size / 1e6:.1f} MB); vs torch: max |logit diff| "
                  f"{result.max_abs_diff:.1e}, argmax agreement {result.argmax_agreement:.2%}")
    if result.int8:
        console.print(f"wrote {result.int8} ({result.int8.stat().st_size / 1e6:.1f} MB)")
    where = f" --model {result.fp32.parent}" if output else ""
    console.print(f"use it: kfact extract ...{where} --backend onnx"
                  + (f" [--onnx-path {result.int8.name}]" if result.int8 else ""))


# -- queryable outputs: Parquet tables, DuckDB facts (pipeline/store.py) ------------------------------

def _export_tables(jsonl: Path, tables: Optional[Path], db: Optional[Path]) -> None:
    from pipeline.store import export as export_tables

    try:
        result = export_tables(jsonl, tables, db)
    except OSError as error:
        _fail(f"cannot write tables: {error}", code=3)
    where = ", ".join(str(p) for p in (result.parquet_dir, result.db_path) if p)
    console.print(f"tables: {result.records} articles, {result.entities} entities, {result.claims} claims "
                  f"-> {where} ({result.seconds:.1f} s)")
    if result.bad_lines:
        console.print(f"[yellow]warning:[/] {result.bad_lines} of {result.lines} lines in {jsonl} are not output "
                      f"records and are not in the tables:")
        for line, reason in result.bad_examples:
            console.print(f"  line {line}: {reason}")


@app.command()
def export(
    output: Path = typer.Argument(..., help="An extract output JSONL."),
    parquet: Optional[Path] = typer.Option(None, help="Directory for articles/entities/claims.parquet."),
    duckdb: Optional[Path] = typer.Option(None, help="DuckDB file (default, if neither is given: OUTPUT.duckdb)."),
) -> None:
    """Convert an extract output into Parquet tables and/or a DuckDB database with a facts view."""
    from pipeline.store import default_paths

    if not output.is_file():
        _fail(f"{output} is not a file")
    if parquet is None and duckdb is None:
        duckdb = default_paths(output, "duckdb")[1]
    _export_tables(output, parquet, duckdb)


@app.command()
def facts(
    db: Path = typer.Argument(..., help="A DuckDB file from `kfact export` or `extract --format duckdb`."),
    conflicts: bool = typer.Option(False, "--conflicts", help="Only facts whose values differ by more than 0.5 %."),
    subject: Optional[str] = typer.Option(None, help="Subject id, e.g. US, KR, openai."),
    indicator: Optional[str] = typer.Option(None, help="Indicator id, e.g. ai_private_investment."),
    limit: int = typer.Option(50, min=1, help="How many facts to list (most-reported first)."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout instead of a table."),
) -> None:
    """Facts grouped by (subject, indicator, year, unit) across articles, with each value's sources."""
    from pipeline.store import query_facts

    def is_duckdb(path: Path) -> bool:
        with open(path, "rb") as handle:
            return handle.read(12)[8:12] == b"DUCK"  # DuckDB's file magic

    if not db.is_file() or not is_duckdb(db):
        _fail(f"{db} is not a DuckDB file (build one with `kfact export OUT.jsonl`)")
    try:
        rows = query_facts(db, conflicts=conflicts, subject=subject, indicator=indicator, limit=limit)
    except Exception as error:  # noqa: BLE001 - duckdb raises its own hierarchy (not a kfact db, locked, ...)
        _fail(f"cannot query {db}: {type(error).__name__}: {error}", code=3)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        return
    if not rows:
        console.print("no facts match")
        return

    def number(value) -> str:
        return f"{value:,.6g}" if value is not None else ""

    def sources(row, shown: int = 5) -> str:
        lines = []
        for source in row["sources"]:
            ids = source["article_ids"]
            more = f" … +{len(ids) - shown}" if len(ids) > shown else ""
            repeats = f" (×{source['n_claims']})" if source["n_claims"] > len(ids) else ""
            lines.append(f"{number(source['value'])}{repeats}: {', '.join(ids[:shown])}{more}")
        return "\n".join(lines)

    table = Table(title=f"facts in {db}" + (" (conflicts only)" if conflicts else ""), show_lines=True)
    for column in ("subject / indicator / year, unit", "articles", "claims", "median", "conflict", "value: article ids"):
        table.add_column(column, overflow="fold", justify="right" if column in ("articles", "claims", "median") else "left")
    for row in rows:
        fact = (f"{row['subject_text']} ({row['subject_id']})\n{row['indicator_id']}\n"
                f"{row['year'] or 'year ?'}, {row['unit'] or 'unit ?'}")
        table.add_row(fact, str(row["n_articles"]), str(row["n_sources"]), number(row["median_value"]),
                      "[bold red]yes" if row["conflict"] else "no", sources(row))
    Console().print(table)  # stdout: the listing is the command's output


@app.command()
def annotate(
    inputs: list[Path] = typer.Argument(..., help="JSONL(.gz) files, .txt files or directories (as for extract)."),
    output: Path = typer.Option(..., "-o", "--output", help="Tasks file: Label Studio JSON array or doccano JSONL."),
    format: str = typer.Option("label-studio", "--format", help="label-studio or doccano."),
    model: Optional[Path] = typer.Option(None, help="Entity model directory (default: the shipped model)."),
    rejects: Optional[Path] = typer.Option(None, help="Rejects JSONL (default: OUTPUT.rejects.jsonl)."),
    batch_size: int = typer.Option(16, min=1),
) -> None:
    """Pre-annotate articles for Label Studio or doccano: entities as predictions, claims as relations."""
    from pipeline.label_formats import FORMATS, AnnotateStats, doc_to_task, write_tasks
    from pipeline.nlp import DEFAULT_MODEL, load_pipeline, pipe_articles
    from pipeline.readers import iter_items

    if format not in FORMATS:
        _fail(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    nlp = load_pipeline(str(model) if model else None)
    version = Path(model or DEFAULT_MODEL).name
    rejects_path = rejects or output.with_name(output.name + ".rejects.jsonl")
    stats, tasks, rejected, read, seen = AnnotateStats(), [], [], 0, set()
    batch: list = []

    def flush() -> None:
        docs = pipe_articles(nlp, [(a.id, a.text, a.published) for a in batch])
        tasks.extend(doc_to_task(doc, article, format, version, stats) for doc, article in zip(docs, batch))
        batch.clear()

    for item in iter_items(list(inputs)):
        read += 1
        if item.reject is not None:
            rejected.append(item.reject.model_dump())
        elif item.article.id in seen:
            rejected.append({"id": item.article.id, "source": item.source, "reason": "duplicate id"})
        else:
            seen.add(item.article.id)
            batch.append(item.article)
            if len(batch) >= batch_size:
                flush()
    if batch:
        flush()
    written = write_tasks(tasks, output, format)
    rejects_path.parent.mkdir(parents=True, exist_ok=True)
    rejects_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejected), encoding="utf-8")
    console.print(f"{read} read, {stats.tasks} tasks, {len(rejected)} rejected ({rejects_path}); "
                  f"{stats.entities} entities, {stats.relations} relations; {stats.claims_without_subject_span} "
                  f"claims left out (subject not an entity span: carried over or 국내/우리나라)")
    console.print("wrote " + ", ".join(str(p) for p in written))
    if read != stats.tasks + len(rejected):
        _fail(f"counts do not add up: read {read} != tasks {stats.tasks} + rejected {len(rejected)}", code=4)


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
    from pipeline.annotation_io import AnnotationError, write_annotations
    from pipeline.label_formats import FORMATS, existing_annotation_ids, import_export

    if format not in FORMATS:
        _fail(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if not export.is_file():
        _fail(f"{export} does not exist")
    if output.exists() and not overwrite:
        _fail(f"{output} exists; pass --overwrite to replace it")
    try:
        result = import_export(export, format, split, use_predictions, existing_annotation_ids(existing, output))
    except (AnnotationError, ValueError) as error:
        _fail(str(error))
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


# -- hostile-input fuzzing (pipeline/fuzz.py) --------------------------------------------------------

@app.command()
def fuzz(
    records: int = typer.Option(10_000, min=10, help="How many hostile records to generate."),
    output_dir: Path = typer.Option(..., "-o", "--output-dir", help="Where the inputs, output and rejects go."),
    seed: int = typer.Option(0, help="Random seed: the same seed writes the same records."),
    model: Optional[Path] = typer.Option(None, help="Entity model directory (default: the shipped model)."),
    workers: int = typer.Option(1, min=1, help="Passed to kfact extract."),
    max_chars: int = typer.Option(20_000, help="Passed to kfact extract; the fuzz's over-long lines exceed it."),
    report: Optional[Path] = typer.Option(None, help="Write the report as JSON here too."),
) -> None:
    """Generate hostile records, run the real `kfact extract` on them, report crashes and whether the counts add up."""
    from pipeline.fuzz import run_fuzz

    result = run_fuzz(output_dir, records=records, seed=seed, model=str(model) if model else None, workers=workers,
                      max_chars=max_chars)
    table = Table(title=f"kfact fuzz — {result.records} records, seed {seed}", show_header=False)
    for key, value in (("crashes (non-zero exit or traceback)", result.crashes), ("extract exit code", result.exit_code),
                       ("inputs", result.records), ("outputs", result.written), ("rejects", result.rejected),
                       ("outputs + rejects = inputs", result.balanced), ("entity offset errors", result.offset_errors),
                       ("rejects without a one-line reason", result.bad_reject_lines),
                       ("seconds", f"{result.seconds:.1f}"), ("records/s", f"{result.records_per_second:.1f}")):
        table.add_row(key, str(value))
    for reason, count in list(result.reasons.items())[:12]:
        table.add_row(f"  rejected: {reason}", str(count))
    console.print(table)
    if result.missing_ids:
        console.print(f"ids not accounted for exactly once: {', '.join(result.missing_ids)}")
    if result.stderr_tail:
        console.print(f"extract stderr (tail):\n{result.stderr_tail}", markup=False, highlight=False)
    if report:
        report.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
    if not result.ok:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover
    app(prog_name="kfact")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
