"""The HTML evaluation report: one self-contained page (inline CSS and SVG, no external assets).

Sections: summary, per-label P/R/F1 bars (SVG), model comparison (when several models ran), claim
metrics, the sentences with the most entity errors (gold and predicted side by side through displaCy),
and every claim of the end-to-end run marked as match, miss or false positive.
"""
from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Sequence

from pipeline.evaluation.metrics import EvalResult, worst_sentences

# displaCy colours for our labels (its defaults only know OntoNotes names).
LABEL_COLORS = {
    "ORG": "#7aecec", "MODEL": "#c887fb", "COUNTRY": "#feca74", "LOCATION": "#ff9561", "PERSON": "#aa9cfc",
    "DATE": "#bfe1d9", "MONEY": "#e4e7d2", "PERCENT": "#e4e7d2", "QUANTITY": "#ffeb80",
}
METRIC_COLORS = {"precision": "#4e79a7", "recall": "#f28e2b", "f1": "#59a14f"}
MODEL_COLORS = ["#4e79a7", "#e15759", "#76b7b2", "#edc948", "#b07aa1"]
CLAIM_STATUS = {  # status -> (text label, row colour); the text label keeps it readable without colour
    "match": ("✓ match", "#e3f4e1"),
    "miss": ("✗ miss", "#fde2e1"),
    "false positive": ("+ false positive", "#fff1d6"),
}
MAIN_LINKER = "end to end, learned"

CSS = """
body{font-family:"Noto Sans CJK KR","Noto Sans KR","Apple SD Gothic Neo","Malgun Gothic",system-ui,sans-serif;
 margin:24px auto;max-width:1320px;color:#222;line-height:1.45;padding:0 16px}
h1{font-size:24px;margin:0 0 4px} h2{font-size:19px;margin:32px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:140px;background:#fafafa}
.card .v{font-size:22px;font-weight:600} .card .k{font-size:12px;color:#666}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#1a7f37;font-weight:600} .down{color:#c62828;font-weight:600}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin:6px 0 4px}
.pair>div{border:1px solid #ddd;border-radius:6px;padding:6px 10px;overflow-wrap:anywhere;min-width:0}
.pair h4{margin:0 0 2px;font-size:12px;color:#666;text-transform:uppercase;letter-spacing:.05em}
.err{margin:0 0 22px} .err h3{font-size:14px;margin:14px 0 2px}
.err ul{margin:2px 0;padding-left:20px;font-size:12px;color:#444}
.status{font-weight:600;white-space:nowrap}
.side{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}
.legend span{display:inline-block;padding:1px 8px;margin-right:8px;border-radius:3px;font-size:12px}
"""


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def _delta(value: float) -> str:
    css = "up" if value > 0.0005 else "down" if value < -0.0005 else ""
    return f'<td class="num {css}">{value:+.3f}</td>'


# -- SVG bars --------------------------------------------------------------------------------------

def label_bars_svg(per_label: dict, width: int = 760) -> str:
    """Horizontal P/R/F1 bars per label, with the value written at the end of each bar."""
    labels = sorted(per_label)
    left, bar_h, gap, top = 110, 11, 10, 28
    plot_w = width - left - 60
    height = top + len(labels) * (3 * bar_h + gap) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bars" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="per-label precision, recall and F1">',
             '<style>text{font-family:inherit;font-size:11px;fill:#333}</style>']
    for i, (name, color) in enumerate(METRIC_COLORS.items()):
        parts.append(f'<rect x="{left + i * 110}" y="6" width="12" height="12" fill="{color}"/>'
                     f'<text x="{left + i * 110 + 16}" y="16">{name}</text>')
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * plot_w
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 8}" stroke="#e5e5e5"/>')
    for row, label in enumerate(labels):
        y0 = top + row * (3 * bar_h + gap)
        m = per_label[label]
        parts.append(f'<text x="{left - 8}" y="{y0 + 1.5 * bar_h + 4}" text-anchor="end" font-weight="600">'
                     f'{_esc(label)} <tspan fill="#888" font-weight="400">({m.get("support", 0)})</tspan></text>')
        for k, (metric, color) in enumerate(METRIC_COLORS.items()):
            value = float(m.get(metric, 0.0))
            y = y0 + k * bar_h
            parts.append(f'<rect class="bar" data-label="{_esc(label)}" data-metric="{metric}" x="{left}" y="{y}" '
                         f'width="{max(value * plot_w, 0.5):.1f}" height="{bar_h - 2}" fill="{color}">'
                         f'<title>{_esc(label)} {metric} {value:.3f}</title></rect>'
                         f'<text x="{left + value * plot_w + 4:.1f}" y="{y + bar_h - 3}">{value:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def compare_bars_svg(comparison: dict, width: int = 760) -> str:
    """F1 per label, one bar per model."""
    rows = comparison["entities"]
    models = comparison["models"]
    left, bar_h, gap, top = 110, 11, 10, 28 + 16 * len(models)
    plot_w = width - left - 60
    height = top + len(rows) * (len(models) * bar_h + gap) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bars compare" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="per-label F1 by model">',
             '<style>text{font-family:inherit;font-size:11px;fill:#333}</style>']
    for i, model in enumerate(models):
        color = MODEL_COLORS[i % len(MODEL_COLORS)]
        parts.append(f'<rect x="{left}" y="{6 + 16 * i}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{left + 16}" y="{16 + 16 * i}">{_esc(model)}{" (baseline)" if i == 0 else ""}</text>')
    for row_i, row in enumerate(rows):
        y0 = top + row_i * (len(models) * bar_h + gap)
        parts.append(f'<text x="{left - 8}" y="{y0 + len(models) * bar_h / 2 + 4}" text-anchor="end" '
                     f'font-weight="600">{_esc(row["label"])}</text>')
        for k, value in enumerate(row["f1"]):
            y = y0 + k * bar_h
            parts.append(f'<rect class="bar" x="{left}" y="{y}" width="{max(value * plot_w, 0.5):.1f}" '
                         f'height="{bar_h - 2}" fill="{MODEL_COLORS[k % len(MODEL_COLORS)]}"/>'
                         f'<text x="{left + value * plot_w + 4:.1f}" y="{y + bar_h - 3}">{value:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


# -- displaCy --------------------------------------------------------------------------------------

def render_entities(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """displaCy's entity markup for one text with manual spans (start, end, label)."""
    from spacy import displacy

    ents = [{"start": a, "end": b, "label": label} for a, b, label in sorted(spans)]
    return displacy.render({"text": text, "ents": ents, "title": None}, style="ent", manual=True, page=False,
                           jupyter=False, options={"colors": LABEL_COLORS})


# -- sections --------------------------------------------------------------------------------------

def _summary(result: EvalResult) -> str:
    e, c = result.entities, result.claims
    cards = [("entity micro F1", _fmt(e["micro"]["f1"])), ("entity macro F1", _fmt(e["macro"]["f1"])),
             ("partial-overlap F1", _fmt(e["partial"]["f1"]))]
    cards += [(f"claim F1, {name}", _fmt(c[name]["micro"]["f1"])) for name in c if name.endswith("learned")]
    cards += [("throughput", f"{result.chars_per_second:,.0f} chars/s"),
              ("run", f"{result.seconds:.1f} s, {result.chars:,} chars"), ("records", str(len(result.records)))]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{_esc(v)}</div><div class="k">{_esc(k)}</div></div>' for k, v in cards
    ) + "</div>"


def _entity_table(entities: dict) -> str:
    rows = ["<table><tr><th>label</th><th>P</th><th>R</th><th>F1</th><th>support</th></tr>"]
    for label, m in sorted(entities["per_label"].items()):
        rows.append(f'<tr><td>{_esc(label)}</td><td class="num">{_fmt(m["precision"])}</td>'
                    f'<td class="num">{_fmt(m["recall"])}</td><td class="num">{_fmt(m["f1"])}</td>'
                    f'<td class="num">{m["support"]}</td></tr>')
    for name in ("micro", "macro", "partial"):
        m = entities[name]
        rows.append(f'<tr><th>{"partial overlap" if name == "partial" else name}</th>'
                    f'<td class="num">{_fmt(m["precision"])}</td><td class="num">{_fmt(m["recall"])}</td>'
                    f'<td class="num">{_fmt(m["f1"])}</td><td class="num">{m.get("support", "")}</td></tr>')
    return "".join(rows) + "</table>"


def _claim_metrics_table(claims: dict) -> str:
    rows = ["<table><tr><th>linker</th><th>P</th><th>R</th><th>F1</th><th>95 % (articles)</th><th>tp</th><th>fp</th>"
            "<th>fn</th></tr>"]
    for name, result in claims.items():
        m = result["micro"]
        low, high = m.get("interval") or (None, None)
        interval = f"{_fmt(low)}–{_fmt(high)}" if low is not None else ""
        rows.append(f'<tr><td>{_esc(name)}</td><td class="num">{_fmt(m["precision"])}</td>'
                    f'<td class="num">{_fmt(m["recall"])}</td><td class="num">{_fmt(m["f1"])}</td>'
                    f'<td class="num">{interval}</td><td class="num">{m["tp"]}</td><td class="num">{m["fp"]}</td>'
                    f'<td class="num">{m["fn"]}</td></tr>')
    return "".join(rows) + "</table>"


def comparison_table(comparison: dict) -> str:
    models = comparison["models"]
    head = "".join(f"<th>F1 {_esc(Path(m).name)}</th>" for m in models)
    head += "".join(f"<th>Δ {_esc(Path(m).name)}</th>" for m in models[1:])
    rows = [f"<table class=\"compare\"><tr><th>label</th><th>support</th>{head}</tr>"]
    for row in comparison["entities"]:
        cells = "".join(f'<td class="num">{_fmt(v)}</td>' for v in row["f1"])
        cells += "".join(_delta(d) for d in row["delta"][1:])
        rows.append(f'<tr><td>{_esc(row["label"])}</td><td class="num">{"" if row["support"] is None else row["support"]}</td>{cells}</tr>')
    rows.append("</table><table class=\"compare\"><tr><th>claims (linker)</th>" + head + "</tr>")
    for row in comparison["claims"]:
        cells = "".join(f'<td class="num">{_fmt(v)}</td>' for v in row["f1"])
        cells += "".join(_delta(d) for d in row["delta"][1:])
        rows.append(f'<tr><td>{_esc(row["linker"])}</td>{cells}</tr>')
    return "".join(rows) + "</table>"


def _worst_errors(result: EvalResult, limit: int) -> str:
    worst = worst_sentences(result.records, result.docs, limit)
    if not worst:
        return "<p>No entity errors.</p>"
    parts = []
    for s in worst:
        items = "".join(
            f"<li><b>{_esc(kind)}</b> {_esc(label)} “{_esc(s.text[a:b])}” ({s.start + a}-{s.start + b})"
            f"{(' — ' + _esc(detail)) if detail else ''}</li>" for kind, a, b, label, detail in s.errors)
        parts.append(
            f'<div class="err"><h3>{_esc(s.record_id)}, sentence {s.sentence + 1}: {s.count} '
            f'error{"s" if s.count != 1 else ""}</h3><div class="pair">'
            f'<div class="gold"><h4>gold</h4>{render_entities(s.text, s.gold)}</div>'
            f'<div class="pred"><h4>predicted</h4>{render_entities(s.text, s.pred)}</div></div>'
            f"<ul>{items}</ul></div>")
    return "".join(parts)


def _claim_cells(claim) -> str:
    span = claim.value_span
    value = claim.value
    if value is None:
        value = ""
    elif abs(value) < 1e15 and abs(value - round(value)) < 1e-9:
        value = f"{value:,.0f}"  # 129,400,000,000 reads better than 1.294e+11
    else:
        value = f"{value:,.6g}"
    return (f"<td>{_esc(claim.subject.text)} ({_esc(claim.subject.id)})</td><td>{_esc(claim.indicator.id)}</td>"
            f'<td class="num">{_esc(claim.year)}</td><td class="num">{_esc(value)}</td><td>{_esc(claim.unit)}</td>'
            f"<td>{span.start}-{span.end}</td>")


def claims_rows(result: EvalResult, linker: str = MAIN_LINKER) -> list[tuple[str, str, object]]:
    """(status, record id, claim) for every gold and predicted claim, in record order."""
    details = result.claims[linker]["details"]
    rows = []
    for record in result.records:
        match = details.get(record.id)
        if match is None:
            continue
        rows += [("match", record.id, pred) for _, pred in match.matched]
        rows += [("miss", record.id, gold) for gold in match.missed]
        rows += [("false positive", record.id, pred) for pred in match.false]
    return rows


def _claims_table(result: EvalResult, linker: str = MAIN_LINKER) -> str:
    texts = {r.id: r.text for r in result.records}
    legend = '<p class="legend">' + "".join(
        f'<span style="background:{color}">{_esc(text)}</span>' for text, color in CLAIM_STATUS.values()) + \
        f"({_esc(linker)}; a match shows the predicted claim, a miss the gold one)</p>"
    rows = ['<table class="claims"><tr><th>status</th><th>record</th><th>subject</th><th>indicator</th>'
            "<th>year</th><th>value</th><th>unit</th><th>span</th><th>value in text</th></tr>"]
    for status, record_id, claim in claims_rows(result, linker):
        text, color = CLAIM_STATUS[status]
        span = claim.value_span
        snippet = texts[record_id][span.start:span.end]
        rows.append(f'<tr class="{status.replace(" ", "-")}" style="background:{color}">'
                    f'<td class="status">{_esc(text)}</td><td>{_esc(record_id)}</td>{_claim_cells(claim)}'
                    f"<td>{_esc(snippet)}</td></tr>")
    return legend + "".join(rows) + "</table>"


def render_report(results: Sequence[EvalResult], comparison: dict | None = None, gold: Sequence[str] = (),
                  worst: int = 12) -> str:
    """The whole page for the first result, plus the comparison with the others when given."""
    main = results[0]
    title = f"kfact evaluation — {Path(main.model).name} on {main.split}"
    sections = [
        f"<h1>{_esc(title)}</h1>",
        f'<p class="meta">model {_esc(main.model)} · gold {_esc(", ".join(gold))} · split {_esc(main.split)} · '
        f"{len(main.records)} records · {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}</p>",
        "<h2>Summary</h2>", _summary(main),
        "<h2>Entities per label (strict span+label, seqeval)</h2>",
        '<div class="side">' + label_bars_svg(main.entities["per_label"]) + _entity_table(main.entities) + "</div>",
    ]
    if comparison:
        sections += ["<h2>Model comparison (Δ against the first model)</h2>",
                     '<div class="side">' + compare_bars_svg(comparison) + "<div>" + comparison_table(comparison)
                     + "</div></div>",
                     "<p class=\"meta\">throughput: " + ", ".join(
                         f"{_esc(Path(m).name)} {c:,.0f} chars/s"
                         for m, c in zip(comparison["models"], comparison["chars_per_second"])) + "</p>"]
    sections += ["<h2>Claims (subject, indicator, year, unit; value within 0.5 %)</h2>",
                 _claim_metrics_table(main.claims),
                 f"<h2>Worst errors (sentences with the most entity errors, top {worst})</h2>",
                 _worst_errors(main, worst),
                 "<h2>Claims, end to end</h2>", _claims_table(main)]
    return (f'<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
            f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>")


def write_report(directory: Path, results: Sequence[EvalResult], comparison: dict | None = None,
                 gold: Sequence[str] = ()) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "index.html"
    path.write_text(render_report(results, comparison, gold), encoding="utf-8")
    return path
