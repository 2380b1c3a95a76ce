"""Queryable outputs: extract JSONL -> Parquet tables -> DuckDB facts view, and the CLI over them."""
from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.evaluation.metrics import VALUE_TOLERANCE
from pipeline.schema import Claim, Entity, Indicator, OutputRecord, Span, Subject
from pipeline.io.outputs import default_paths
from pipeline.io.store import export, query_facts
from tests.conftest import SHARED, run_kfact

COUNTRY = {"US": "미국", "KR": "한국", "CN": "중국"}


def claim(subject: str, value: float, start: int, year: int | None = 2024, unit: str | None = "USD",
          indicator: str = "ai_private_investment", text: str = "") -> Claim:
    return Claim(subject=Subject(text=COUNTRY[subject], type="COUNTRY", id=subject),
                 indicator=Indicator(id=indicator, text="민간 투자"), year=year, value=value, unit=unit,
                 value_span=Span(start=start, end=start + len(text), text=text),
                 evidence=Span(start=max(start - 20, 0), end=start + 30), confidence=0.8)


def money(start: int, text: str, value: float) -> Entity:
    return Entity(start=start, end=start + len(text), label="MONEY", text=text, value=value, unit="USD")


def three_articles() -> list[OutputRecord]:
    """Two articles disagree on US private AI investment 2024 (1091억 vs 1099억 달러, 0.73 % apart);
    all three agree on KR (1.33e9 and 1.332e9 are within 0.5 %); two report a CN value with no year."""
    a1 = OutputRecord(id="a1", published="2025-04-08", title="AI 지수", url="https://example.com/a1",
                      entities=[Entity(start=0, end=2, label="COUNTRY", text="미국"),
                                money(10, "1091억 달러", 1.091e11), money(40, "13억3000만 달러", 1.33e9)],
                      claims=[claim("US", 1.091e11, 10, text="1091억 달러"), claim("KR", 1.33e9, 40, text="13억3000만 달러"),
                              claim("CN", 9.3e9, 60, year=None, text="93억 달러")])
    a2 = OutputRecord(id="a2", published="2025-04-09",
                      entities=[money(5, "1099억 달러", 1.099e11), money(30, "13억3000만 달러", 1.33e9),
                                Entity(start=50, end=55, label="DATE", text="2024년", year=2024)],
                      claims=[claim("US", 1.099e11, 5, text="1099억 달러"), claim("KR", 1.33e9, 30, text="13억3000만 달러"),
                              claim("CN", 9.3e9, 70, year=None, text="93억 달러")])
    a3 = OutputRecord(id="a3", entities=[money(0, "13억3200만 달러", 1.332e9)],
                      claims=[claim("KR", 1.332e9, 0, text="13억3200만 달러")])
    return [a1, a2, a3]


def write_jsonl(path: Path, records: list[OutputRecord]) -> Path:
    path.write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
    return path


def python_facts(records: list[OutputRecord]) -> dict[tuple, dict]:
    """The facts view recomputed in plain Python from Claim.key() and the period, to check the SQL against."""
    groups: dict[tuple, list[tuple[str, float]]] = defaultdict(list)
    for record in records:
        for c in record.claims:
            if c.value is not None:
                subject, indicator, year, unit = c.key()
                groups[(subject, indicator, year, c.period, unit)].append((record.id, c.value))
    facts = {}
    for key, pairs in groups.items():
        values = [v for _, v in pairs]
        low, high = min(values), max(values)
        facts[key] = {"n_sources": len(pairs), "n_articles": len({a for a, _ in pairs}), "min_value": low,
                      "max_value": high, "median_value": statistics.median(values),
                      "conflict": high - low > VALUE_TOLERANCE * max(abs(low), abs(high))}
    return facts


def assert_facts_match(db: Path, records: list[OutputRecord]) -> list[dict]:
    rows = query_facts(db, limit=None)
    expected = python_facts(records)
    got = {(r["subject_id"], r["indicator_id"], r["year"], r["period"], r["unit"]): r for r in rows}
    assert set(got) == set(expected)
    for key, want in expected.items():
        row = got[key]
        for name, value in want.items():
            assert row[name] == pytest.approx(value), (key, name)
        assert sum(s["n_claims"] for s in row["sources"]) == row["n_sources"]
    return rows


@pytest.fixture()
def built(tmp_path):
    records = three_articles()
    jsonl = write_jsonl(tmp_path / "out.jsonl", records)
    summary = export(jsonl, tmp_path / "tables", tmp_path / "out.duckdb")
    return records, jsonl, summary, tmp_path


def test_parquet_tables_hold_every_entity_and_claim(built):
    records, _, summary, tmp_path = built
    n_entities, n_claims = sum(len(r.entities) for r in records), sum(len(r.claims) for r in records)
    assert (summary.records, summary.entities, summary.claims, summary.bad_lines) == (3, n_entities, n_claims, 0)
    articles = pq.read_table(tmp_path / "tables" / "articles.parquet").to_pylist()
    entities = pq.read_table(tmp_path / "tables" / "entities.parquet")
    claims = pq.read_table(tmp_path / "tables" / "claims.parquet").to_pylist()
    assert [a["id"] for a in articles] == ["a1", "a2", "a3"]
    assert [(a["n_entities"], a["n_claims"], a["line"]) for a in articles] == [
        (len(r.entities), len(r.claims), i) for i, r in enumerate(records, 1)]
    assert str(articles[0]["published"]) == "2025-04-08" and articles[2]["published"] is None
    assert entities.num_rows == n_entities and len(claims) == n_claims
    assert entities.to_pylist()[5]["year"] == 2024  # a2's DATE entity, with its normalized field
    first = claims[0]
    assert (first["article_id"], first["claim_index"], first["subject_id"], first["subject_text"], first["indicator_id"],
            first["year"], first["value"], first["unit"], first["value_text"]) == (
        "a1", 0, "US", "미국", "ai_private_investment", 2024, 1.091e11, "USD", "1091억 달러")
    assert (first["value_start"], first["value_end"], first["evidence_start"], first["evidence_end"]) == (10, 10 + len("1091억 달러"), 0, 40)
    assert not any(p.name.startswith(".") for p in (tmp_path / "tables").iterdir())  # temp files moved into place


def test_duckdb_facts_group_sources_and_flag_conflicts(built):
    records, _, _, tmp_path = built
    db = tmp_path / "out.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "entities", "claims")]
    assert counts == [3, sum(len(r.entities) for r in records), sum(len(r.claims) for r in records)]
    rows = assert_facts_match(db, records)
    by_subject = {r["subject_id"]: r for r in rows}
    us, kr, cn = by_subject["US"], by_subject["KR"], by_subject["CN"]
    assert (us["n_sources"], us["n_articles"], us["conflict"]) == (2, 2, True)
    assert [(s["value"], s["article_ids"]) for s in us["sources"]] == [(1.091e11, ["a1"]), (1.099e11, ["a2"])]
    assert (kr["n_sources"], kr["n_articles"], kr["n_values"], kr["conflict"]) == (3, 3, 2, False)
    assert kr["sources"][0]["article_ids"] == ["a1", "a2"]
    assert cn["year"] is None and cn["n_articles"] == 2  # a NULL year is one group, not dropped by the join
    assert [r["subject_id"] for r in query_facts(db, conflicts=True)] == ["US"]
    assert [r["subject_id"] for r in query_facts(db, subject="kr", indicator="AI_private_investment")] == ["KR"]


def test_facts_cli_lists_conflicts_with_both_articles(built):
    _, _, _, tmp_path = built
    runner = CliRunner()
    result = runner.invoke(app, ["facts", str(tmp_path / "out.duckdb"), "--conflicts", "--format", "table"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "(US)" in result.output and "(KR)" not in result.output
    assert "1.091e+11: a1" in result.output and "1.099e+11: a2" in result.output
    result = runner.invoke(app, ["facts", str(tmp_path / "out.duckdb"), "--json", "--subject", "KR"])
    assert result.exit_code == 0, result.output
    (kr,) = json.loads(result.stdout)
    assert kr["conflict"] is False and kr["n_articles"] == 3


def test_export_cli_reports_a_partial_last_line(tmp_path):
    jsonl = write_jsonl(tmp_path / "run.jsonl", three_articles())
    with open(jsonl, "a", encoding="utf-8") as handle:
        handle.write('{"id": "a4", "entities": [')  # a killed run's last line
    result = CliRunner().invoke(app, ["export", str(jsonl), "--parquet", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert "1 of 4 lines" in result.output and "line 4: partial last line" in result.output
    assert pq.read_table(tmp_path / "t" / "articles.parquet").num_rows == 3
    assert not (tmp_path / "run.duckdb").exists()
    assert CliRunner().invoke(app, ["export", str(jsonl)]).exit_code == 0  # default: OUT.duckdb beside it
    assert (tmp_path / "run.duckdb").is_file()


def test_malformed_lines_are_reported_and_the_rest_of_the_chunk_kept(tmp_path):
    """A line the fast path cannot convert sends its chunk through OutputRecord: a coercible value is
    kept, an invalid record is reported with its line and reason, and its neighbours still land."""
    good = [r.model_dump(mode="json") for r in three_articles()]
    coercible = dict(good[1], claims=[dict(good[1]["claims"][0], value="109900000000")])  # a string number
    no_subject = dict(good[2], claims=[{k: v for k, v in good[2]["claims"][0].items() if k != "subject"}])
    no_label = dict(good[2], id="a4", entities=[{"start": 0, "end": 1, "text": "x"}])  # required column missing
    lines = [good[0], coercible, no_subject, no_label, dict(good[2], id="a5")]
    jsonl = tmp_path / "mixed.jsonl"
    jsonl.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines) + "[1, 2]\n", encoding="utf-8")
    summary = export(jsonl, tmp_path / "tables")
    assert (summary.records, summary.bad_lines, summary.lines) == (3, 3, 6)
    reasons = dict(summary.bad_examples)
    assert set(reasons) == {3, 4, 6}
    assert "subject" in reasons[3] and "label" in reasons[4]
    articles = pq.read_table(tmp_path / "tables" / "articles.parquet").to_pylist()
    assert [(a["id"], a["line"]) for a in articles] == [("a1", 1), ("a2", 2), ("a5", 5)]
    claims = pq.read_table(tmp_path / "tables" / "claims.parquet").to_pylist()
    assert [c["value"] for c in claims if c["article_id"] == "a2"] == [1.099e11]
    assert summary.claims == len(claims) == len(good[0]["claims"]) + 1 + len(good[2]["claims"])


def test_default_table_paths():
    assert default_paths(Path("out/sample.jsonl"), "parquet") == (Path("out/sample"), None)
    assert default_paths(Path("out/sample.jsonl"), "duckdb") == (None, Path("out/sample.duckdb"))
    assert default_paths(Path("out/sample.jsonl"), "jsonl") == (None, None)
    assert default_paths(Path("out/run.json"), "parquet") == (Path("out/run.json.tables"), None)


def test_large_input_streams_in_row_groups(tmp_path):
    """20k records: row counts add up and each table is written in many bounded row groups."""
    n, rows_per_group = 20_000, 4096
    entity = {"start": 0, "end": 9, "label": "MONEY", "text": "1091억 달러", "value": 1.091e11, "unit": "USD"}
    base = claim("US", 1.091e11, 0, text="1091억 달러").model_dump(mode="json")
    jsonl = tmp_path / "big.jsonl"
    with open(jsonl, "w", encoding="utf-8") as handle:
        for i in range(n):
            # Values drift with i, so the facts have many distinct values and a conflict.
            claims = [dict(base, value=1e9 * (1 + i / n))] + ([dict(base, subject={"text": "한국", "type": "COUNTRY", "id": "KR"})]
                                                     if i % 2 else [])
            handle.write(json.dumps({"id": f"doc{i}", "entities": [entity] * (1 + i % 3), "claims": claims},
                                    ensure_ascii=False) + "\n")
    summary = export(jsonl, tmp_path / "tables", tmp_path / "big.duckdb", row_group_rows=rows_per_group)
    n_entities, n_claims = sum(1 + i % 3 for i in range(n)), n + n // 2
    assert (summary.records, summary.entities, summary.claims) == (n, n_entities, n_claims)
    for name, rows in (("articles", n), ("entities", n_entities), ("claims", n_claims)):
        meta = pq.ParquetFile(tmp_path / "tables" / f"{name}.parquet").metadata
        assert meta.num_rows == rows
        assert meta.num_row_groups >= rows // rows_per_group
        assert max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) < 2 * rows_per_group
    us = query_facts(tmp_path / "big.duckdb", subject="US")[0]
    assert (us["n_sources"], us["n_articles"], us["n_values"], us["conflict"]) == (n, n, n, True)
    kr = query_facts(tmp_path / "big.duckdb", subject="KR")[0]
    assert (kr["n_sources"], kr["n_values"], kr["conflict"]) == (n // 2, 1, False)


def test_progress_total_matches_what_the_readers_yield(tmp_path):
    from pipeline.runtime.progress import count_records
    from pipeline.io.readers import iter_items

    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.txt").write_text("한국은 13억 달러", encoding="utf-8")
    (tmp_path / "dir" / "b.csv").write_text("x", encoding="utf-8")  # unsupported: a reject, still read
    (tmp_path / "in.jsonl").write_text('{"id": 1, "text": "가"}\n\n{"id": 2, "text": "나"}\nnot json\n', encoding="utf-8")
    inputs = [tmp_path / "dir", tmp_path / "in.jsonl", tmp_path / "missing.jsonl"]
    assert count_records(inputs) == sum(1 for _ in iter_items(inputs)) == 6
    assert count_records(inputs, max_bytes=10) is None  # too big to count cheaply: no total, no ETA


@pytest.mark.slow
@pytest.mark.model_regression
def test_extract_seeds_to_duckdb(shipped_model, tmp_path):
    seeds = SHARED / "seeds"
    if not seeds.is_dir():
        pytest.skip("../shared/seeds is not beside the repo")
    out = tmp_path / "seeds.jsonl"
    result = run_kfact("extract", str(seeds), "-o", str(out), "--model", str(shipped_model), "--format", "duckdb")
    assert result.returncode == 0, result.stderr
    records = [OutputRecord.model_validate_json(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(list(seeds.glob("*.txt")))
    db = tmp_path / "seeds.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM claims").fetchone()[0] == sum(len(r.claims) for r in records)
        assert con.execute("SELECT count(*) FROM entities").fetchone()[0] == sum(len(r.entities) for r in records)
    rows = assert_facts_match(db, records)
    assert rows, "the seeds yield no facts"
    listing = run_kfact("facts", str(db), "--conflicts")  # not a terminal: TSV
    assert listing.returncode == 0, listing.stderr
    listed = {tuple(line.split("\t")[:3:2]) for line in listing.stdout.splitlines()[1:]}
    for row in query_facts(db, conflicts=True, limit=5):
        assert (row["subject_id"], row["indicator_id"]) in listed
    # Whether the two AI Index articles' US private investment (1091억 vs 1099억 달러) meet in one fact depends
    # on the linker's indicator: test_cli_end_to_end.test_seed_us_private_investment_both_reports.


# -- outputs named as asked -----------------------------------------------------------------------

def test_output_format_follows_the_name(tmp_path):
    from pipeline.io.outputs import plan_outputs

    db = plan_outputs(tmp_path / "facts.duckdb")
    assert (db.format, db.db, db.tables, db.journal_requested) == ("duckdb", tmp_path / "facts.duckdb", None, False)
    assert db.journal == tmp_path / "facts.jsonl"
    tables = plan_outputs(tmp_path / "t.parquet")
    assert (tables.format, tables.tables, tables.journal) == ("parquet", tmp_path / "t.parquet", tmp_path / "t.jsonl")
    (tmp_path / "dir").mkdir()
    assert plan_outputs(tmp_path / "dir").tables == tmp_path / "dir"
    plain = plan_outputs(tmp_path / "out.jsonl")
    assert (plain.format, plain.journal, plain.tables, plain.db) == ("jsonl", tmp_path / "out.jsonl", None, None)
    # the older form: a JSONL name with an explicit format writes both, side by side
    both = plan_outputs(tmp_path / "out.jsonl", "duckdb")
    assert (both.journal, both.db, both.journal_requested) == (tmp_path / "out.jsonl", tmp_path / "out.duckdb", True)
    with pytest.raises(ValueError):
        plan_outputs(tmp_path / "x.jsonl", "csv")


@pytest.mark.slow
def test_extract_to_a_duckdb_name_writes_a_database_there(shipped_model, tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a", "text": "한국의 AI 민간 투자는 지난해 13억 달러였다.", "published": "2025-04-08"},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    db = tmp_path / "facts.duckdb"
    result = run_kfact("extract", str(inp), "-o", str(db), "--model", str(shipped_model))
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    assert not (tmp_path / "facts.jsonl").exists()  # a complete run needs no journal for --resume
    assert run_kfact("facts", str(db)).returncode == 0
    tables = tmp_path / "tables.parquet"
    assert run_kfact("extract", str(inp), "-o", str(tables), "--model", str(shipped_model)).returncode == 0
    assert (tables / "articles.parquet").is_file()
    exported = tmp_path / "again.duckdb"
    jsonl = tmp_path / "out.jsonl"
    assert run_kfact("extract", str(inp), "-o", str(jsonl), "--model", str(shipped_model)).returncode == 0
    assert run_kfact("export", str(jsonl), "-o", str(exported)).returncode == 0
    with duckdb.connect(str(exported), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 1


def test_facts_in_a_pipe_are_tsv_with_whole_ids(built):
    _, _, _, tmp_path = built
    result = CliRunner().invoke(app, ["facts", str(tmp_path / "out.duckdb")], env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split("\t")[:3] == ["subject_id", "subject", "indicator"]
    us = next(line.split("\t") for line in lines[1:] if line.startswith("US\t"))
    assert us[2] == "ai_private_investment" and us[-1] == "109100000000: a1; 109900000000: a2"
    csv_out = CliRunner().invoke(app, ["facts", str(tmp_path / "out.duckdb"), "--format", "csv"])
    assert csv_out.output.splitlines()[0].startswith("subject_id,subject,indicator")


def test_export_refuses_a_database_another_process_holds_open(built):
    import subprocess
    import sys

    from pipeline.io.store import StoreBusy, export

    _, jsonl, _, tmp_path = built
    db = tmp_path / "out.duckdb"
    before = db.read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                               f"con = duckdb.connect({str(db)!r})\nprint('open', flush=True)\ntime.sleep(60)\n"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreBusy, match="open in another process"):
            export(jsonl, None, db)
        result = CliRunner().invoke(app, ["export", str(jsonl), "--duckdb", str(db)])
        assert result.exit_code == 3 and "open in another process" in " ".join(result.output.split())
    finally:
        holder.kill()
        holder.wait()
    assert db.read_bytes() == before  # untouched
    export(jsonl, None, db)  # free again


def test_monthly_figures_are_facts_of_their_own(tmp_path):
    from pipeline.schema import Claim, Indicator, Span, Subject

    def claim(value, period):
        return Claim(subject=Subject(text="", type="COUNTRY", id="KR"), indicator=Indicator(id="exports", text="수출"),
                     year=2024, period=period, value=value, unit="USD", value_span=Span(start=0, end=1, text="1"))

    records = [OutputRecord(id="m", claims=[claim(5.0e10, "2024-03"), claim(5.6e10, "2024-04")]),
               OutputRecord(id="n", claims=[claim(5.0e10, "2024-03")])]
    db = tmp_path / "m.duckdb"
    export(write_jsonl(tmp_path / "m.jsonl", records), None, db)
    rows = assert_facts_match(db, records)
    assert {(r["period"], r["n_articles"], r["conflict"]) for r in rows} == {("2024-03", 2, False), ("2024-04", 1, False)}


def test_append_adds_a_crawl_once_and_skips_or_replaces_known_ids(tmp_path):
    from pipeline.io.store import query_facts

    first, second = three_articles()[:2], three_articles()[2:]
    db = tmp_path / "facts.duckdb"
    export(write_jsonl(tmp_path / "a.jsonl", first), None, db)
    crawl2 = write_jsonl(tmp_path / "b.jsonl", second + first[:1])  # one article the store already has
    summary = export(crawl2, None, db, append="skip")
    assert summary.appended == {"added": len(second), "skipped": 1, "replaced": 0}

    def counts():
        with duckdb.connect(str(db), read_only=True) as con:
            return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "entities", "claims"))

    everything = three_articles()
    want = (len(everything), sum(len(r.entities) for r in everything), sum(len(r.claims) for r in everything))
    assert counts() == want
    assert_facts_match(db, everything)  # the facts view sees both crawls
    export(crawl2, None, db, append="skip")  # the same crawl again changes nothing
    assert counts() == want
    replaced = export(crawl2, None, db, append="replace")
    assert replaced.appended == {"added": 0, "skipped": 0, "replaced": len(second) + 1} and counts() == want
    assert query_facts(db, limit=None)
    result = CliRunner().invoke(app, ["export", str(crawl2), "--duckdb", str(db), "--append"])
    assert result.exit_code == 0 and counts() == want
