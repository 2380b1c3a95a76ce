"""Crash-safe stores: `export` killed with SIGKILL at random points leaves the previous tables and database
intact and readable, leaves no temp file behind after the next run, and a rerun gives the uninterrupted tables."""
from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.io.store import TABLES, export
from tests.conftest import ROOT

CHILD = """
import json, sys
from pathlib import Path
from pipeline.io.store import export
args = json.loads(sys.argv[1])
print("ready", flush=True)
export(Path(args["jsonl"]), Path(args["parquet"]) if args["parquet"] else None, Path(args["db"]),
       row_group_rows=1000, append=args["append"])
print("done", flush=True)
"""


def write_crawl(path: Path, ids: range) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for i in ids:
            entity = {"start": 0, "end": 9, "label": "MONEY", "text": "1091억 달러", "value": 1e9 + i, "unit": "USD"}
            claim = {"subject": {"text": "한국", "type": "COUNTRY", "id": "KR"},
                     "indicator": {"id": "ai_private_investment", "text": "민간 투자"}, "year": 2000 + i % 25,
                     "value": 1e9 + i, "unit": "USD", "value_span": {"start": 0, "end": 9, "text": "1091억 달러"},
                     "evidence": {"start": 0, "end": 30}, "confidence": 0.8}
            handle.write(json.dumps({"id": f"doc{i}", "text": "한국은 1091억 달러" * (1 + i % 5),
                                     "entities": [entity] * (1 + i % 3), "claims": [claim] * (1 + i % 2)},
                                    ensure_ascii=False) + "\n")
    return path


def fingerprint(con, source: str) -> tuple:
    """Row count and an order-free hash of every table, read through `source` ('{t}' = the table)."""
    out = []
    for table in TABLES:
        relation = source.format(t=table)
        out.append(con.execute(f"SELECT count(*), coalesce(sum(hash(COLUMNS(*)::VARCHAR)), 0) FROM "
                               f"(SELECT * FROM {relation}) AS r").fetchone())
    return tuple(out)


def db_state(db: Path) -> tuple | None:
    if not db.exists():
        return None
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SELECT count(*) FROM facts").fetchone()  # the view is there and answers
        return fingerprint(con, "{t}")


def parquet_state(directory: Path) -> tuple | None:
    if not (directory / "articles.parquet").exists():
        return None
    with duckdb.connect() as con:
        return fingerprint(con, f"read_parquet('{directory}/{{t}}.parquet')")


@pytest.mark.slow
def test_export_killed_twenty_times_at_random_points_loses_nothing(tmp_path):
    full = write_crawl(tmp_path / "crawl1.jsonl", range(2400))
    second = write_crawl(tmp_path / "crawl2.jsonl", range(2000, 3200))  # 400 ids overlap the first crawl
    store = tmp_path / "store"
    store.mkdir()
    db, tables = store / "facts.duckdb", store / "tables"
    export(write_crawl(tmp_path / "half.jsonl", range(1200)), tables, db)  # the previous store

    modes = [{"jsonl": str(full), "parquet": str(tables), "db": str(db), "append": None},  # rebuild both
             {"jsonl": str(full), "parquet": None, "db": str(db), "append": None},  # the database only
             {"jsonl": str(second), "parquet": None, "db": str(db), "append": "skip"}]  # an incremental crawl
    rng = random.Random(20261202)
    kills = completed = 0
    expected: dict[tuple, tuple] = {}
    for attempt in range(24):
        mode = modes[attempt % 3]
        before_db, before_tables = db_state(db), parquet_state(tables)
        # what this attempt gives uninterrupted: the same call on a copy of the store (states recur: memoized)
        key = (attempt % 3, before_db, before_tables)
        if key not in expected:
            shadow = tmp_path / f"shadow{attempt}"
            shutil.copytree(store, shadow)
            started = time.perf_counter()
            export(Path(mode["jsonl"]), shadow / "tables" if mode["parquet"] else None, shadow / "facts.duckdb",
                   row_group_rows=1000, append=mode["append"])
            took = time.perf_counter() - started
            expected[key] = (db_state(shadow / "facts.duckdb"), parquet_state(shadow / "tables"), took)
            shutil.rmtree(shadow)
        after_db, after_tables, took = expected[key]

        child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(mode)], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0, took * 1.1))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        finished = child.stdout.read().strip() == "done"
        completed += finished
        kills += not finished

        state_db, state_tables = db_state(db), parquet_state(tables)
        assert state_db in ({after_db} if finished else {before_db, after_db}), (attempt, mode)
        assert state_tables in ({after_tables} if finished else {before_tables, after_tables}), (attempt, mode)
    assert kills >= 20, f"only {kills} of 24 attempts were killed mid-export ({completed} completed first)"

    # a rerun after the last kill gives what an uninterrupted run on a fresh store gives, and nothing is left over
    for mode in modes:
        export(Path(mode["jsonl"]), Path(mode["parquet"]) if mode["parquet"] else None, db, row_group_rows=1000,
               append=mode["append"])
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    export(full, fresh / "tables", fresh / "facts.duckdb", row_group_rows=1000)
    export(second, None, fresh / "facts.duckdb", row_group_rows=1000, append="skip")
    assert db_state(db) == db_state(fresh / "facts.duckdb")
    assert parquet_state(tables) == parquet_state(fresh / "tables")
    assert sorted(p.name for p in store.iterdir()) == ["facts.duckdb", "tables"]
    assert sorted(p.name for p in tables.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
