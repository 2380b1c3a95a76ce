"""Everything the command line prints: the console, errors, and the tables of each command."""
from __future__ import annotations

import json

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)  # progress, summaries and errors; stdout is kept for listings (facts --json)


def fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def print_extract_summary(summary, output: Path, rejects: Path) -> None:
    table = Table(title="kfact extract", show_header=False)
    for key, value in (("read", summary.read), ("written", summary.written), ("rejected", summary.rejected),
                       ("already done (resume)", summary.already_done), ("seconds", f"{summary.seconds:.1f}"),
                       ("articles/s", f"{summary.written / max(summary.seconds, 1e-9):.2f}"),
                       ("chars/s", f"{summary.chars / max(summary.seconds, 1e-9):.0f}"),
                       ("output", str(output)), ("rejects", str(rejects))):
        table.add_row(key, str(value))
    for reason, count in sorted(summary.reasons.items(), key=lambda kv: -kv[1]):
        table.add_row(f"  rejected: {reason}", str(count))
    skipped = getattr(summary, "skipped", {})  # WARC requests, images, ...: not articles, so outside `read`
    if skipped:
        table.add_row("skipped (not articles)", str(sum(skipped.values())))
    for reason, count in sorted(skipped.items(), key=lambda kv: -kv[1]):
        table.add_row(f"  skipped: {reason}", str(count))
    console.print(table)


def print_export_summary(result, jsonl: Path) -> None:
    where = ", ".join(str(p) for p in (result.parquet_dir, result.db_path) if p)
    console.print(f"tables: {result.records} articles, {result.entities} entities, {result.claims} claims "
                  f"-> {where} ({result.seconds:.1f} s)")
    appended = getattr(result, "appended", None)
    if appended and appended.get("added", -1) >= 0:
        console.print(f"appended to {result.db_path}: {appended['added']} new articles, {appended['skipped']} "
                      f"already there skipped, {appended['replaced']} replaced")
    if result.bad_lines:
        console.print(f"[yellow]warning:[/] {result.bad_lines} of {result.lines} lines in {jsonl} are not output "
                      f"records and are not in the tables:")
        for line, reason in result.bad_examples:
            console.print(f"  line {line}: {reason}")


def _prf_row(name: str, m: dict, support: str = "") -> list[str]:
    return [name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", support]


def print_evaluation(result, split: str) -> None:
    """Entity metrics (per label, micro, macro, partial), claim metrics per linker and per indicator."""
    entities, claims = result.entities, result.claims
    table = Table(title=f"entities ({split}, {len(result.records)} records, strict span+label)")
    for column in ("label", "P", "R", "F1", "support"):
        table.add_column(column, justify="right" if column != "label" else "left")
    for label, m in sorted(entities["per_label"].items()):
        table.add_row(*_prf_row(label, m, str(m["support"])))
    for name in ("micro", "macro"):
        table.add_row(*_prf_row(f"[bold]{name}", entities[name], str(entities[name]["support"])))
    table.add_row(*_prf_row("[italic]partial overlap", entities["partial"]))
    console.print(table)
    claims_table = Table(title="claims (subject, indicator, year, unit; value within 0.5 %)")
    for column in ("linker", "P", "R", "F1", "95 % (articles)", "tp", "fp", "fn"):
        claims_table.add_column(column)
    for name, claim_result in claims.items():
        m = claim_result["micro"]
        claims_table.add_row(*_prf_row(name, m)[:4], _interval(m), str(m["tp"]), str(m["fp"]), str(m["fn"]))
    console.print(claims_table)
    per_indicator = Table(title="claims per indicator (end to end, learned)")
    for column in ("indicator", "P", "R", "F1", "support"):
        per_indicator.add_column(column)
    for name, m in claims["end to end, learned"]["per_indicator"].items():
        per_indicator.add_row(*_prf_row(name, m, str(m["support"])))
    console.print(per_indicator)
    console.print(f"throughput: {result.chars_per_second:,.0f} chars/s ({result.chars:,} chars in {result.seconds:.1f} s)")


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


def _interval(metrics: dict) -> str:
    """micro F1's interval by resampling articles (pipeline.evaluation.metrics.article_interval), if known."""
    low, high = metrics.get("interval") or (None, None)
    return f"{low:.3f}–{high:.3f}" if low is not None else ""


def print_linker_report(report: dict, output: Path) -> None:
    table = Table(title="claims on gold entities")
    for column in ("split", "scorer", "P", "R", "F1", "95 % (articles)", "tp", "fp", "fn"):
        table.add_column(column)
    for split in report["learned"]:
        for scorer in ("rules", "learned"):
            m = report[scorer][split]
            table.add_row(split, scorer, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                          _interval(m), str(m["tp"]), str(m["fp"]), str(m["fn"]))
    console.print(table)
    console.print(f"ranking examples {report['examples']}; gold choice not among the candidates "
                  f"{report['gold_not_among_candidates']}")
    console.print(f"claim threshold {report['best_threshold']}, other bias {report['other_bias']}; wrote {output} "
                  f"in {report.get('seconds', 0):.0f} s")


def print_cv_report(report: dict, folds: int) -> None:
    table = Table(title=f"claims on gold entities, {folds}-fold cross-validation by article (train+dev), "
                        f"threshold {report['threshold']}, other bias {report['other_bias']}")
    for column in ("scorer", "P", "R", "F1", "95 % (articles)", "tp", "fp", "fn"):
        table.add_column(column)
    for name in ("rules", "learned"):
        m = report[name]
        table.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", _interval(m),
                      str(m["tp"]), str(m["fp"]), str(m["fn"]))
    console.print(table)
    best = report["best"]
    if best is not None:
        console.print(f"cross-validated choice: threshold {best['threshold']}, other bias {best['other_bias']} "
                      f"(F1 {best['cv_f1']:.3f}); ship it with `kfact train-linker --threshold {best['threshold']} "
                      f"--other-bias {best['other_bias']}`")


ROW_FORMATS = ("table", "tsv", "csv", "json")


def row_format(requested: str | None) -> str:
    """A table for a terminal; TSV when stdout is a pipe or a file, so that ids are never wrapped in cells."""
    import sys

    if requested is None:
        return "table" if sys.stdout.isatty() else "tsv"
    if requested not in ROW_FORMATS:
        fail(f"--format must be one of {', '.join(ROW_FORMATS)}, not {requested!r}")
    return requested


def emit_rows(rows: list[dict], fmt: str) -> None:
    """tsv | csv | json rows on stdout: one header line, then one line per row (tabs and newlines in cells
    become spaces in TSV)."""
    import csv
    import sys

    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        return
    columns = list(rows[0]) if rows else []
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    clean = lambda v: "" if v is None else " ".join(str(v).split())  # noqa: E731
    print("\t".join(columns))
    for row in rows:
        print("\t".join(clean(row[c]) for c in columns))


def summary_rows(claims: list, limit: int) -> list[dict]:
    rows = []
    for record_id, c in sorted(claims, key=lambda rc: -(rc[1].get("confidence") or 0))[:limit]:
        evidence = (c.get("evidence") or {}).get("text") or ""
        rows.append({"record": record_id, "subject_id": c["subject"]["id"], "subject": c["subject"]["text"],
                     "indicator": c["indicator"]["id"], "year": c["year"], "value": c["value"], "unit": c["unit"],
                     "confidence": c.get("confidence"), "sentence": " ".join(evidence.split())})
    return rows


def print_summary(records: int, labels, claims: list, limit: int, fmt: str = "table") -> None:
    rows = summary_rows(claims, limit)
    console.print(f"{records} records, {sum(labels.values())} entities "  # stderr: not part of the rows
                  f"({', '.join(f'{k} {v}' for k, v in labels.most_common())}), {len(claims)} claims")
    if fmt != "table":
        emit_rows(rows, fmt)
        return
    table = Table(title=f"claims (highest confidence {limit}), with the sentence each came from", show_lines=True)
    for column in ("record", "subject", "indicator", "year", "value", "unit", "conf", "sentence"):
        table.add_column(column, overflow="fold")
    for row in rows:
        sentence = row["sentence"] if len(row["sentence"]) <= 160 else row["sentence"][:157] + "…"
        table.add_row(row["record"], f"{row['subject']} ({row['subject_id']})", row["indicator"], str(row["year"]),
                      f"{row['value']:,.6g}", str(row["unit"]), f"{row['confidence'] or 0:.2f}", sentence)
    Console().print(table)  # stdout: the listing is the command's output


def _plain(value) -> str:
    """A number as a machine reads it: 109100000000, 0.27 (no grouping, no exponent)."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def fact_rows(rows: list[dict]) -> list[dict]:
    """The facts view flattened for TSV/CSV: sources as `value: article ids` joined by `; `."""
    flat = []
    for row in rows:
        sources = "; ".join(f"{_plain(s['value'])}: {','.join(s['article_ids'])}" for s in row["sources"])
        flat.append({"subject_id": row["subject_id"], "subject": row["subject_text"], "indicator": row["indicator_id"],
                     "year": row["year"], "period": row.get("period"), "unit": row["unit"], "articles": row["n_articles"], "claims": row["n_sources"],
                     "median": row["median_value"], "conflict": row["conflict"], "sources": sources})
    return flat


def _number(value) -> str:
    return f"{value:,.6g}" if value is not None else ""


def print_facts(rows: list[dict], db: Path, conflicts: bool) -> None:
    def sources(row, shown: int = 5) -> str:
        lines = []
        for source in row["sources"]:
            ids = source["article_ids"]
            more = f" … +{len(ids) - shown}" if len(ids) > shown else ""
            repeats = f" (×{source['n_claims']})" if source["n_claims"] > len(ids) else ""
            lines.append(f"{_number(source['value'])}{repeats}: {', '.join(ids[:shown])}{more}")
        return "\n".join(lines)

    table = Table(title=f"facts in {db}" + (" (conflicts only)" if conflicts else ""), show_lines=True)
    for column in ("subject / indicator / year, unit", "articles", "claims", "median", "conflict", "value: article ids"):
        table.add_column(column, overflow="fold", justify="right" if column in ("articles", "claims", "median") else "left")
    for row in rows:
        fact = (f"{row['subject_text']} ({row['subject_id']})\n{row['indicator_id']}\n"
                f"{row['year'] or 'year ?'}{' ' + row['period'] if row.get('period') else ''}, {row['unit'] or 'unit ?'}")
        table.add_row(fact, str(row["n_articles"]), str(row["n_sources"]), _number(row["median_value"]),
                      "[bold red]yes" if row["conflict"] else "no", sources(row))
    Console().print(table)  # stdout: the listing is the command's output


def print_bench(result: dict) -> None:
    table = Table(title=f"kfact bench — {result['date']}, {result['machine']}")
    for column in ("stage", "chars", "seconds", "chars/s", "first batch at (s)", "chars/s after it", "peak RSS MB"):
        table.add_column(column)
    for stage in result["stages"]:
        first, after = stage.get("first_batch_seconds"), stage.get("after_first_batch_cps")
        table.add_row(stage["stage"], f"{stage['chars']:,}", f"{stage['seconds']:.1f}",
                      f"{stage['chars_per_second']:,}", f"{first:.1f}" if first else "",
                      f"{after:,}" if after else "", f"{stage['peak_rss_mb']:.0f}")
    console.print(table)
    for name, value in result["ratios"].items():
        target = result["targets"].get(name)
        console.print(f"{name}: {value:.3f}" + (f" (target {target})" if target else ""))


def print_fuzz(result, seed: int) -> None:
    table = Table(title=f"kfact fuzz — {result.records} records, seed {seed}", show_header=False)
    for key, value in (("crashes (non-zero exit or traceback)", result.crashes), ("extract exit code", result.exit_code),
                       ("inputs", result.records), ("outputs", result.written), ("rejects", result.rejected),
                       ("outputs + rejects = inputs", result.balanced), ("entity offset errors", result.offset_errors),
                       ("rejects without a one-line reason", result.bad_reject_lines),
                       ("seconds", f"{result.seconds:.1f}"), ("records/s", f"{result.records_per_second:.1f}"),
                       ("peak RSS, extract's process tree (MB)", f"{result.peak_rss_mb:.0f}")):
        table.add_row(key, str(value))
    for name, window in (("first tenth", result.start), ("last tenth", result.end)):
        if window is not None:
            table.add_row(f"{name} of the records", f"{window.records_per_second:.1f} records/s, RSS {window.tree_rss_mb:.0f} MB "
                          f"(largest process {window.largest_process_rss_mb:.0f} MB)")
    for reason, count in list(result.reasons.items())[:12]:
        table.add_row(f"  rejected: {reason}", str(count))
    console.print(table)
    if result.missing_ids:
        console.print(f"ids not accounted for exactly once: {', '.join(result.missing_ids)}")
    if result.stderr_tail:
        console.print(f"extract stderr (tail):\n{result.stderr_tail}", markup=False, highlight=False)


def print_suggestions(suggestions: list) -> None:
    table = Table(title="`other` claims by the phrase that names what was measured")
    for column in ("phrase", "articles", "claims", "units", "examples"):
        table.add_column(column)
    for s in suggestions:
        table.add_row(s.phrase, str(len(s.articles)), str(s.claims),
                      ", ".join(f"{u} {n}" for u, n in s.units.most_common(3)), " | ".join(s.examples))
    Console().print(table)  # stdout: the listing is the command's output


LABEL_STYLES = {"ORG": "bold cyan", "MODEL": "bold magenta", "COUNTRY": "bold green", "LOCATION": "green",
                "PERSON": "bold blue", "DATE": "yellow", "MONEY": "bold red", "PERCENT": "bold red",
                "QUANTITY": "red"}


def print_article(doc) -> None:
    """The text with entities highlighted ([label] after each), then the claims with their evidence."""
    from rich.text import Text

    out = Console()
    article = doc._.article
    if article is not None:
        out.print(f"[bold]{article.title or article.id}[/bold]  published {article.published or '?'}")
    text = Text(doc.text)
    for ent in doc.ents:
        text.stylize(LABEL_STYLES.get(ent.label_, "bold"), ent.start_char, ent.end_char)
    out.print(text)
    out.print(" ".join(f"[{style}]{label}[/{style}]" for label, style in LABEL_STYLES.items()))
    claims = list(doc._.claims or [])
    table = Table(title=f"{len(claims)} claims", show_lines=True)
    for column in ("value", "subject", "indicator", "year", "unit", "conf", "sentence"):
        table.add_column(column, overflow="fold")
    for claim in claims:
        evidence = " ".join((claim.evidence.text or "").split()) if claim.evidence else ""
        table.add_row(claim.value_span.text or "", f"{claim.subject.text} ({claim.subject.id})",
                      f"{claim.indicator.id}\n{claim.indicator.text}", str(claim.year) + (f" {claim.period}" if claim.period else ""),
                      str(claim.unit), f"{claim.confidence or 0:.2f}", evidence)
    out.print(table)
