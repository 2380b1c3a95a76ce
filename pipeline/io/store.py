"""Queryable outputs: extract JSONL -> Parquet tables -> a DuckDB database with a `facts` view.

The JSONL written by the batch runner stays the resumable journal; the tables are derived from it
and can be rebuilt at any time (`kfact export`). Conversion streams: lines are read one by one and
written as Parquet row groups of about `row_group_rows` rows, so memory holds one such chunk however
many millions of records the journal has; DuckDB then loads the Parquet files under a memory cap.

Tables (one row per ...):
  articles  record:  id, published, title, url, n_entities, n_claims, line
  entities  entity:  article_id, entity_index, every Entity field (start, end, label, text, value, unit, ...)
  claims    claim:   article_id, claim_index, subject_*, indicator_*, year, value, value_max, unit,
                     approximate, confidence, value_start/end/text, evidence_start/end/text
and the view
  facts     one row per (subject_id, indicator_id, year, period, unit) over all claims with a value:
            n_sources (claims), n_articles, min/median/max value, n_values, `sources` (distinct values,
            each with its article ids), `conflict` (values differ by more than 0.5 %, the tolerance
            the evaluation uses to call two values the same).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
import types
import typing
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from pipeline.evaluation.metrics import VALUE_TOLERANCE
from pipeline.schema import Entity, OutputRecord

TABLES = ("articles", "entities", "claims")
ROW_GROUP_ROWS = 65_536  # rows per Parquet row group and per buffered flush; bounds memory per table
DUCKDB_MEMORY_LIMIT = "256MB"  # loading streams; measured: 3.5M entity rows load in 6 s within it
MAX_BAD_LINES_KEPT = 20  # bad lines are all counted; the first few are kept with their reason


# -- Arrow schemas --------------------------------------------------------------------------------

def _arrow_type(annotation: Any) -> pa.DataType:
    """Arrow type of a scalar pydantic field annotation (`float | None` -> float64)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"cannot map {annotation} to one Arrow type")
        annotation = args[0]
    mapping = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}
    if annotation not in mapping:
        raise TypeError(f"cannot map {annotation} to an Arrow type")
    return mapping[annotation]


def _schema(columns: list[tuple[str, pa.DataType, bool]]) -> pa.Schema:
    """(name, type, required): a required column may not hold nulls (checked on the fast path)."""
    return pa.schema([pa.field(name, kind, nullable=not required) for name, kind, required in columns])


REQ, OPT = True, False
SCHEMAS: dict[str, pa.Schema] = {
    "articles": _schema([
        ("id", pa.string(), REQ), ("published", pa.date32(), OPT), ("title", pa.string(), OPT),
        ("url", pa.string(), OPT), ("n_entities", pa.int32(), REQ), ("n_claims", pa.int32(), REQ),
        ("line", pa.int64(), REQ),  # line number in the JSONL journal, to find the full record again
    ]),
    # Entity columns follow Entity, so a new normalizer field reaches the tables without edits here.
    "entities": _schema(
        [("article_id", pa.string(), REQ), ("entity_index", pa.int32(), REQ)]
        + [(name, _arrow_type(info.annotation), info.is_required()) for name, info in Entity.model_fields.items()]),
    "claims": _schema([
        ("article_id", pa.string(), REQ), ("claim_index", pa.int32(), REQ),
        ("subject_id", pa.string(), REQ), ("subject_text", pa.string(), REQ), ("subject_type", pa.string(), REQ),
        ("indicator_id", pa.string(), REQ), ("indicator_text", pa.string(), REQ),
        ("year", pa.int64(), OPT), ("period", pa.string(), OPT),
        ("value", pa.float64(), OPT), ("value_max", pa.float64(), OPT),
        ("unit", pa.string(), OPT), ("approximate", pa.bool_(), REQ), ("confidence", pa.float64(), REQ),
        ("value_start", pa.int64(), REQ), ("value_end", pa.int64(), REQ), ("value_text", pa.string(), OPT),
        ("evidence_start", pa.int64(), OPT), ("evidence_end", pa.int64(), OPT), ("evidence_text", pa.string(), OPT),
    ]),
}


def _to_table(rows: list[dict[str, Any]], name: str) -> pa.Table:
    """Rows -> Arrow; Arrow checks the types, this checks that required columns have no nulls."""
    schema = SCHEMAS[name]
    table = pa.Table.from_pylist(rows, schema=schema)
    for column, spec in zip(table.columns, schema):
        if not spec.nullable and column.null_count:
            raise ValueError(f"{name}.{spec.name} is missing")
    return table


def record_rows(data: dict[str, Any], line: int) -> dict[str, list[dict[str, Any]]]:
    """Rows of the three tables for one journal line, from its parsed JSON (or a dumped OutputRecord).

    Works on plain dicts because json.loads plus Arrow's own conversion is several times faster than
    building OutputRecords; a line that does not fit raises here or in Arrow and is then re-read
    through the OutputRecord model (see _Chunk.tables).
    """
    article_id, entities, claims = data["id"], data.get("entities") or [], data.get("claims") or []
    if not isinstance(article_id, str) or not isinstance(entities, list) or not isinstance(claims, list):
        raise TypeError("id, entities or claims has the wrong type")
    published = data.get("published")
    if isinstance(published, str):
        published = dt.date.fromisoformat(published)
    article = {"id": article_id, "published": published, "title": data.get("title"), "url": data.get("url"),
               "n_entities": len(entities), "n_claims": len(claims), "line": line}
    entity_rows = [{**e, "article_id": article_id, "entity_index": i} for i, e in enumerate(entities)]
    claim_rows = []
    for i, c in enumerate(claims):
        subject, indicator, span, evidence = c["subject"], c["indicator"], c["value_span"], c.get("evidence") or {}
        claim_rows.append({
            "article_id": article_id, "claim_index": i, "subject_id": subject["id"], "subject_text": subject["text"],
            "subject_type": subject["type"], "indicator_id": indicator["id"], "indicator_text": indicator["text"],
            "year": c.get("year"), "period": c.get("period"), "value": c.get("value"), "value_max": c.get("value_max"), "unit": c.get("unit"),
            "approximate": c.get("approximate", False), "confidence": c.get("confidence", 1.0),
            "value_start": span["start"], "value_end": span["end"], "value_text": span.get("text"),
            "evidence_start": evidence.get("start"), "evidence_end": evidence.get("end"),
            "evidence_text": evidence.get("text")})
    return {"articles": [article], "entities": entity_rows, "claims": claim_rows}


# -- writing --------------------------------------------------------------------------------------

@dataclass
class ExportSummary:
    records: int = 0
    entities: int = 0
    claims: int = 0
    bad_lines: int = 0
    bad_examples: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), the first few
    parquet_dir: Path | None = None
    db_path: Path | None = None
    seconds: float = 0.0
    appended: dict[str, int] | None = None  # --append: articles added, skipped or replaced

    def bad(self, line: int, reason: str) -> None:
        self.bad_lines += 1
        if len(self.bad_examples) < MAX_BAD_LINES_KEPT:
            self.bad_examples.append((line, reason[:200]))

    @property
    def lines(self) -> int:
        """Non-blank lines read: every one is a record in the tables or a bad line."""
        return self.records + self.bad_lines


CONVERSION_ERRORS = (pa.ArrowException, TypeError, ValueError, KeyError, AttributeError)


def _validated_rows(raw: bytes, line: int) -> dict[str, list[dict[str, Any]]]:
    """The slow, strict path: through OutputRecord (coercions, defaults), then to rows."""
    rows = record_rows(OutputRecord.model_validate_json(raw).model_dump(), line)
    for name in TABLES:
        _to_table(rows[name], name)  # raises if it still does not fit
    return rows


class _Chunk:
    """Parsed journal lines buffered until one table holds a row group's worth of rows."""

    def __init__(self):
        self.lines: list[tuple[int, bytes]] = []  # raw, not parsed: a fraction of the memory
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self.failed = False

    def add(self, line: int, raw: bytes, data: Any) -> None:
        self.lines.append((line, raw))
        if self.failed:
            return
        try:
            rows = record_rows(data, line)
        except CONVERSION_ERRORS:
            self.failed = True  # the strict path will find and report this line
            return
        for name in TABLES:
            self.rows[name].extend(rows[name])

    def size(self) -> int:
        return max(len(self.lines), len(self.rows["entities"]), len(self.rows["claims"]))

    def tables(self, summary: ExportSummary) -> dict[str, pa.Table]:
        """Arrow tables for the chunk. If any line does not convert, the chunk is redone line by line
        through OutputRecord, so only the bad lines are left out, each reported with its reason."""
        if not self.failed:
            try:
                tables = {name: _to_table(self.rows[name], name) for name in TABLES}
                summary.records += len(self.lines)
                return tables
            except CONVERSION_ERRORS:
                pass
        good: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        for line, raw in self.lines:
            try:
                rows = _validated_rows(raw, line)
            except ValidationError as error:
                first = error.errors()[0]
                summary.bad(line, f"{'.'.join(map(str, first['loc'])) or 'record'}: {first['msg']}")
                continue
            except CONVERSION_ERRORS as error:
                summary.bad(line, f"{type(error).__name__}: {error}")
                continue
            summary.records += 1
            for name in TABLES:
                good[name].extend(rows[name])
        return {name: _to_table(good[name], name) for name in TABLES}


def iter_lines(path: Path, summary: ExportSummary) -> Iterator[tuple[int, bytes, Any]]:
    """(line number, raw, parsed JSON) per non-blank line; undecodable or partial lines are reported, not yielded."""
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                yield line_no, raw, json.loads(raw)
            except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
                reason = f"not JSON: {error}"
                if not raw.endswith(b"\n"):
                    reason = f"partial last line (killed run? rerun extract with --resume); {reason}"
                summary.bad(line_no, reason)


def write_parquet(jsonl: Path, out_dir: Path, row_group_rows: int = ROW_GROUP_ROWS) -> ExportSummary:
    """Stream an extract JSONL into out_dir/{articles,entities,claims}.parquet (replaced atomically).

    Memory holds one chunk: about `row_group_rows` rows of the largest table, as dicts and as Arrow.
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary(parquet_dir=out_dir)
    paths = {name: out_dir / f"{name}.parquet" for name in TABLES}
    tmp = {name: path.with_name(f".{path.name}.tmp") for name, path in paths.items()}
    writers = {name: pq.ParquetWriter(tmp[name], SCHEMAS[name], compression="zstd") for name in TABLES}
    counts = dict.fromkeys(TABLES, 0)

    def flush(chunk: _Chunk) -> None:
        for name, table in chunk.tables(summary).items():
            if table.num_rows:
                writers[name].write_table(table, row_group_size=table.num_rows)
                counts[name] += table.num_rows

    ok = False
    try:
        chunk = _Chunk()
        for line_no, raw, data in iter_lines(jsonl, summary):
            chunk.add(line_no, raw, data)
            if chunk.size() >= row_group_rows:
                flush(chunk)
                chunk = _Chunk()
        flush(chunk)
        ok = True
    finally:
        for name in TABLES:
            writers[name].close()
            if ok:
                os.replace(tmp[name], paths[name])
            else:
                tmp[name].unlink(missing_ok=True)
    summary.entities, summary.claims = counts["entities"], counts["claims"]
    summary.seconds = time.perf_counter() - started
    return summary


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def facts_view_sql(tolerance: float = VALUE_TOLERANCE) -> str:
    """The `facts` view: the same (subject, indicator, year, unit) grouped across claims and articles.

    NULL year or unit is a group of its own (IS NOT DISTINCT FROM), as in Claim.key(). Monthly, quarterly and
    half-year figures (`period`) are facts of their own: March and April exports are not a conflict.
    """
    key = "subject_id, indicator_id, year, period, unit"
    return f"""
CREATE OR REPLACE VIEW facts AS
WITH valued AS (SELECT * FROM claims WHERE value IS NOT NULL),
groups AS (
    SELECT {key},
           mode(subject_text) AS subject_text, mode(subject_type) AS subject_type,
           mode(indicator_text) AS indicator_text,
           count(*) AS n_sources, count(DISTINCT article_id) AS n_articles,
           min(value) AS min_value, median(value) AS median_value, max(value) AS max_value,
           max(confidence) AS max_confidence
    FROM valued GROUP BY {key}
),
per_value AS (
    SELECT {key}, value, count(*) AS n_claims, list(DISTINCT article_id ORDER BY article_id) AS article_ids
    FROM valued GROUP BY {key}, value
),
value_lists AS (
    SELECT {key}, count(*) AS n_values,
           list({{'value': value, 'n_claims': n_claims, 'article_ids': article_ids}} ORDER BY value) AS sources
    FROM per_value GROUP BY {key}
)
SELECT g.subject_id, g.subject_text, g.subject_type, g.indicator_id, g.indicator_text, g.year, g.period, g.unit,
       g.n_sources, g.n_articles, v.n_values, g.min_value, g.median_value, g.max_value,
       (g.max_value - g.min_value) > {tolerance!r} * greatest(abs(g.min_value), abs(g.max_value)) AS conflict,
       v.sources, g.max_confidence
FROM groups g JOIN value_lists v
  ON g.subject_id = v.subject_id AND g.indicator_id = v.indicator_id
 AND g.year IS NOT DISTINCT FROM v.year AND g.period IS NOT DISTINCT FROM v.period
 AND g.unit IS NOT DISTINCT FROM v.unit
"""


DUPLICATE_POLICIES = ("skip", "replace")


@contextmanager
def _staged_database(db_path: Path, start_from_existing: bool):
    """A connection to a copy of the database (or a new file) beside it; on success the facts view is
    (re)created, the file checkpointed and moved into place, so a kill leaves the previous file intact."""
    import duckdb

    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    try:
        if start_from_existing:
            shutil.copyfile(db_path, tmp)
        # DuckDB's default memory limit is 80 % of RAM, shared with extract workers; a cap makes it spill instead.
        with duckdb.connect(str(tmp), config={"memory_limit": DUCKDB_MEMORY_LIMIT}) as con:
            yield con
            con.execute(facts_view_sql())
            con.execute("CHECKPOINT")
        os.replace(tmp, db_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def append_duckdb(parquet_dir: Path, db_path: Path, on_duplicate: str = "skip") -> dict[str, int]:
    """Add the tables in parquet_dir to an existing database: an article id already there is skipped (its
    stored rows kept) or replaced (its rows deleted first), never duplicated. Returns the counts."""
    if on_duplicate not in DUPLICATE_POLICIES:
        raise ValueError(f"on_duplicate must be one of {DUPLICATE_POLICIES}, not {on_duplicate!r}")
    if not db_path.is_file():
        build_duckdb(parquet_dir, db_path)
        return {"added": -1, "skipped": 0, "replaced": 0}
    new = {name: _sql_string(parquet_dir / f"{name}.parquet") for name in TABLES}
    with _staged_database(db_path, start_from_existing=True) as con:
        con.execute(f"CREATE TEMP TABLE incoming AS SELECT id FROM read_parquet({new['articles']})")
        present = con.execute("SELECT count(*) FROM incoming WHERE id IN (SELECT id FROM articles)").fetchone()[0]
        total = con.execute("SELECT count(*) FROM incoming").fetchone()[0]
        if on_duplicate == "replace":
            con.execute("DELETE FROM articles WHERE id IN (SELECT id FROM incoming)")
            for name in ("entities", "claims"):
                con.execute(f"DELETE FROM {name} WHERE article_id IN (SELECT id FROM incoming)")
            keep = "TRUE"
        else:
            con.execute("CREATE TEMP TABLE kept AS SELECT id FROM articles")
            keep = "NOT (id IN (SELECT id FROM kept))"
        con.execute(f"INSERT INTO articles SELECT * FROM read_parquet({new['articles']}) WHERE {keep}")
        for name in ("entities", "claims"):
            key = keep.replace("(id IN", "(article_id IN")
            con.execute(f"INSERT INTO {name} SELECT * FROM read_parquet({new[name]}) WHERE {key}")
    if on_duplicate == "replace":
        return {"added": total - present, "skipped": 0, "replaced": present}
    return {"added": total - present, "skipped": present, "replaced": 0}


def build_duckdb(parquet_dir: Path, db_path: Path) -> None:
    """Load the three Parquet tables into a new DuckDB file (built aside, then moved into place)."""
    with _staged_database(db_path, start_from_existing=False) as con:
        for name in TABLES:
            # DuckDB streams the Parquet file in; no Python rows in between.
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet({_sql_string(parquet_dir / f'{name}.parquet')})")


class StoreBusy(OSError):
    """The target database is held open by another process."""


def ensure_not_held(db_path: Path) -> None:
    """Refuse to replace a DuckDB file another process has open (DuckDB's own lock, which names its pid),
    before any work is done, rather than failing deep inside DuckDB or swapping the file under a reader."""
    import duckdb

    if not db_path.exists():
        return
    try:
        duckdb.connect(str(db_path)).close()
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise StoreBusy(f"{db_path} is open in another process; close it first ({str(error).splitlines()[0]})") \
                from None
        raise


def export(jsonl: Path, parquet_dir: Path | None = None, db_path: Path | None = None,
           row_group_rows: int = ROW_GROUP_ROWS, append: str | None = None) -> ExportSummary:
    """Parquet tables and/or a DuckDB database from an extract JSONL; a DuckDB-only export
    writes its Parquet into a temporary directory beside the database and removes it. One export per
    database at a time (DB.lock), and none while another process holds the database open. `append`
    ("skip" or "replace" for article ids already stored) adds to an existing database instead of rebuilding it.""" 
    if parquet_dir is None and db_path is None:
        raise ValueError("nothing to export: give a Parquet directory, a DuckDB path or both")
    if db_path is None:
        return _export(jsonl, parquet_dir, None, row_group_rows)
    from pipeline.runtime.lock import OutputLocked, exclusive_output

    try:
        with exclusive_output(db_path):
            ensure_not_held(db_path)
            return _export(jsonl, parquet_dir, db_path, row_group_rows, append)
    except OutputLocked as error:
        raise StoreBusy(str(error)) from None


def _export(jsonl: Path, parquet_dir: Path | None, db_path: Path | None, row_group_rows: int,
            append: str | None = None) -> ExportSummary:
    started = time.perf_counter()
    scratch = None
    if parquet_dir is None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # a killed export's scratch directory; stale by construction, since this run holds DB.lock
        for stale in db_path.parent.glob(f".{db_path.name}.*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{db_path.name}.", dir=db_path.parent))
    try:
        summary = write_parquet(jsonl, parquet_dir or scratch, row_group_rows)
        if db_path is not None and append:
            summary.appended = append_duckdb(parquet_dir or scratch, db_path, append)
        elif db_path is not None:
            build_duckdb(parquet_dir or scratch, db_path)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    summary.parquet_dir, summary.db_path = parquet_dir, db_path
    summary.seconds = time.perf_counter() - started
    return summary


# -- querying -------------------------------------------------------------------------------------

def query_facts(db_path: Path, conflicts: bool = False, subject: str | None = None,
                indicator: str | None = None, limit: int | None = 50) -> list[dict[str, Any]]:
    """Rows of the facts view, most-reported first; ids compare case-insensitively."""
    import duckdb

    where, params = [], []
    if conflicts:
        where.append("conflict")
    if subject:
        where.append("lower(subject_id) = lower(?)")
        params.append(subject)
    if indicator:
        where.append("lower(indicator_id) = lower(?)")
        params.append(indicator)
    sql = "SELECT * FROM facts" + (f" WHERE {' AND '.join(where)}" if where else "")
    sql += " ORDER BY n_articles DESC, n_sources DESC, subject_id, indicator_id, year NULLS LAST, unit"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    with duckdb.connect(str(db_path), read_only=True) as con:
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
