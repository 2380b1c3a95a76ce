"""kfact export, facts, summarize: the extract output as tables, facts and a summary (pipeline/io/store.py)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli.render import (console, emit_rows, fact_rows, fail, print_export_summary, print_facts, print_summary,
                                 row_format)


def export_tables(jsonl: Path, tables: Optional[Path], db: Optional[Path], append: Optional[str] = None) -> None:
    from pipeline.io.store import export as export_store

    if append and db is None:
        fail("--append adds to a DuckDB database: give one (-o FILE.duckdb or --db FILE)")
    try:
        result = export_store(jsonl, tables, db, append=append)
    except OSError as error:
        fail(f"cannot write tables: {error}", code=3)
    print_export_summary(result, jsonl)


@app.command()
def export(
    output: Path = typer.Argument(..., help="An extract output JSONL."),
    to: Optional[Path] = typer.Option(None, "-o", "--to", help="FILE.duckdb, or FILE.parquet / a directory for "
                                                               "Parquet tables: the format follows the name."),
    parquet: Optional[Path] = typer.Option(None, help="Directory for articles/entities/claims.parquet."),
    duckdb: Optional[Path] = typer.Option(None, help="DuckDB file (default, if nothing is given: OUTPUT.duckdb)."),
    append: bool = typer.Option(False, "--append", help="Add to an existing database instead of rebuilding it."),
    on_duplicate: str = typer.Option("skip", help="With --append, an article id already stored: skip | replace."),
) -> None:
    """Convert an extract output into Parquet tables and/or a DuckDB database with a facts view."""
    from pipeline.io.outputs import default_paths, infer_format

    if not output.is_file():
        fail(f"{output} is not a file")
    if to is not None:
        kind = infer_format(to)
        if kind == "jsonl":
            fail(f"-o {to}: name a .duckdb file, or a .parquet path or directory for the tables")
        if kind == "duckdb":
            duckdb = to
        else:
            parquet = to
    if parquet is None and duckdb is None:
        duckdb = default_paths(output, "duckdb")[1]
    if on_duplicate not in ("skip", "replace"):
        fail(f"--on-duplicate must be skip or replace, not {on_duplicate!r}")
    export_tables(output, parquet, duckdb, on_duplicate if append else None)


def _is_duckdb(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(12)[8:12] == b"DUCK"  # DuckDB's file magic


@app.command()
def facts(
    db: Path = typer.Argument(..., help="A DuckDB file from `kfact export` or `extract --format duckdb`."),
    conflicts: bool = typer.Option(False, "--conflicts", help="Only facts whose values differ by more than 0.5 %."),
    subject: Optional[str] = typer.Option(None, help="Subject id, e.g. US, KR, openai."),
    indicator: Optional[str] = typer.Option(None, help="Indicator id, e.g. ai_private_investment."),
    limit: int = typer.Option(50, min=1, help="How many facts to list (most-reported first)."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout instead of a table (= --format json)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="table | tsv | csv | json (default: a table on a "
                                                            "terminal, TSV in a pipe or a file)."),
) -> None:
    """Facts grouped by (subject, indicator, year, unit) across articles, with each value's sources."""
    from pipeline.io.store import query_facts

    if not db.is_file() or not _is_duckdb(db):
        fail(f"{db} is not a DuckDB file (build one with `kfact export OUT.jsonl`)")
    try:
        rows = query_facts(db, conflicts=conflicts, subject=subject, indicator=indicator, limit=limit)
    except Exception as error:  # noqa: BLE001 - duckdb raises its own hierarchy (not a kfact db, locked, ...)
        fail(f"cannot query {db}: {type(error).__name__}: {error}", code=3)
    fmt = "json" if as_json else row_format(fmt)
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
    elif fmt != "table":
        emit_rows(fact_rows(rows), fmt)
    elif not rows:
        console.print("no facts match")
    else:
        print_facts(rows, db, conflicts)


@app.command()
def summarize(output: Path = typer.Argument(..., help="An extract output JSONL."),
              limit: int = typer.Option(15, help="How many claims to list."),
              fmt: Optional[str] = typer.Option(None, "--format", help="table | tsv | csv | json (default: a table "
                                                                       "on a terminal, TSV in a pipe or a file).")) -> None:
    """A short summary of an extract output: entities per label and the top claims."""
    labels, claims, records = Counter(), [], 0
    with open(output, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            records += 1
            labels.update(e["label"] for e in record["entities"])
            claims.extend((record["id"], c) for c in record["claims"])
    print_summary(records, labels, claims, limit, row_format(fmt))
