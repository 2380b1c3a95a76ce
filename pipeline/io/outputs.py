"""Where an extract run writes, from what the user named: `-o facts.duckdb` is a database, `-o tables.parquet`
(or a directory) Parquet tables, anything else JSONL; the JSONL journal the batch appends to sits beside."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


OUTPUT_FORMATS = ("jsonl", "parquet", "duckdb")


@dataclass(frozen=True)
class OutputPlan:
    """Where one extract run writes: the JSONL journal the batch appends to (and --resume reads), and the
    tables or database built from it at the end."""

    format: str
    journal: Path
    tables: Path | None = None
    db: Path | None = None
    journal_requested: bool = True  # False: the journal is only the run's scratch, removed once the run is complete


def infer_format(output: Path) -> str:
    """jsonl | parquet | duckdb from `-o`: .duckdb/.db, .parquet or an existing directory, else JSONL."""
    name = output.name.lower()
    if name.endswith((".duckdb", ".db")):
        return "duckdb"
    if name.endswith(".parquet") or output.is_dir():
        return "parquet"
    return "jsonl"


def plan_outputs(output: Path, fmt: str | None = None, tables: Path | None = None, db: Path | None = None) -> OutputPlan:
    """`-o facts.duckdb` is the database, `-o tables.parquet` (or a directory) the Parquet tables, anything else
    the JSONL. An explicit format with a JSONL `-o` keeps the older form: OUT.jsonl plus OUT.duckdb or OUT/."""
    fmt = fmt or infer_format(output)
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; choose from {', '.join(OUTPUT_FORMATS)}")
    named = infer_format(output)
    if fmt == "jsonl" or named != fmt:  # -o names the JSONL itself
        default_tables, default_db = default_paths(output, fmt)
        return OutputPlan(fmt, output, tables or default_tables, db or default_db, True)
    journal = output.with_name(output.name + ".jsonl") if output.is_dir() or not output.suffix \
        else output.with_suffix(".jsonl")
    if fmt == "duckdb":
        return OutputPlan(fmt, journal, tables, output, False)
    return OutputPlan(fmt, journal, output, db, False)


def default_paths(output: Path, fmt: str) -> tuple[Path | None, Path | None]:
    """Where `extract -o OUT.jsonl --format F` puts its tables: OUT/ (Parquet) or OUT.duckdb
    (OUT.x.tables/ and OUT.x.duckdb for an output not named .jsonl, so the directory never is the file)."""
    stem = output.name.removesuffix(".jsonl")
    if fmt == "parquet":
        return output.with_name(stem if stem != output.name else stem + ".tables"), None
    if fmt == "duckdb":
        return None, output.with_name(stem + ".duckdb")
    return None, None
