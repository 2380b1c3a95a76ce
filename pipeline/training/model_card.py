"""Final evaluation of a trained entity model and its model card (README.md beside the weights)."""
from __future__ import annotations

import json
import platform
from datetime import date
from pathlib import Path

from pipeline.io.annotations import AnnotatedRecord


def evaluate_entity_model(model_dir: Path, splits: dict[str, list[dict]], names=("dev", "test")) -> dict:
    """Entity metrics through the real pipeline (Kiwi -> model -> spans), per split and per source."""
    from pipeline.evaluation.metrics import entity_metrics, run_pipeline
    from pipeline.nlp import load_pipeline

    nlp = load_pipeline(model_dir, with_linker=False)
    results = {}
    for name in names:
        records = [AnnotatedRecord.model_validate(r) for r in splits.get(name, []) if "#" not in r["id"]]
        if not records:
            continue
        groups = {"kmou": [r for r in records if r.id.startswith("kmou-")],
                  "kfact_annotations": [r for r in records if not r.id.startswith("kmou-")]}
        runs = {group: run_pipeline(nlp, subset) for group, subset in groups.items() if subset}
        # "all" is the two sources together: their docs joined, not a third pass of the pipeline.
        groups["all"] = [r for group in runs for r in groups[group]]
        runs["all"] = ([d for docs, _ in runs.values() for d in docs], sum(seconds for _, seconds in runs.values()))
        results[name] = {}
        for group in ("all", "kmou", "kfact_annotations"):
            if group in runs:
                subset, (docs, seconds) = groups[group], runs[group]
                speed = sum(len(r.text) for r in subset) / max(seconds, 1e-9)
                results[name][group] = entity_metrics(subset, docs) | {"records": len(subset),
                                                                       "chars_per_second": round(speed)}
    return results


def _table(metrics: dict) -> str:
    rows = ["| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for label, m in sorted(metrics["per_label"].items()):
        rows.append(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    for name in ("micro", "macro"):
        m = metrics[name]
        rows.append(f"| **{name}** | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    m = metrics["partial"]
    rows.append(f"| *partial overlap* | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | |")
    return "\n".join(rows)


def _training_section(model_dir: Path, info: dict) -> str:
    """Dev evaluations with the mean training loss since the previous one, and the loss curve as SVG."""
    history = info["history"]
    losses = [h for h in history if "loss" in h]
    evals = [h for h in history if "dev_window_f1" in h]
    rows, previous = [], 0
    for h in evals:
        window = [x["loss"] for x in losses if previous < x["step"] <= h["step"]]
        rows.append(f"| {h['step']} | {h['epoch']} | {sum(window) / len(window) if window else float('nan'):.4f} "
                    f"| {h['dev_window_f1']:.4f} |")
        previous = h["step"]
    speed = [x["subwords_per_s"] for x in losses if x.get("subwords_per_s")]
    curve = _loss_svg([(x["step"], x["loss"]) for x in losses], [(h["step"], h["dev_window_f1"]) for h in evals])
    (model_dir / "loss_curve.svg").write_text(curve, encoding="utf-8")
    return ("| step | epoch | train loss (since previous) | dev F1 (windows) |\n|---:|---:|---:|---:|\n"
            + "\n".join(rows) + f"\n\nBest on dev: step {info.get('best_step')} (epoch {info['best_epoch']}). "
            f"Median speed {sorted(speed)[len(speed) // 2] if speed else 0:,} subwords/s. "
            "Loss curve: [loss_curve.svg](loss_curve.svg) (training loss, and dev F1 at each evaluation).\n")


def _loss_svg(loss: list[tuple[int, float]], dev: list[tuple[int, float]], width: int = 640, height: int = 240) -> str:
    if not loss:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    last = max(step for step, _ in loss + dev)
    top = max(value for _, value in loss)
    x = lambda step: 40 + (width - 60) * step / max(1, last)
    y = lambda value, scale: height - 30 - (height - 50) * value / scale
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(s):.1f},{y(v, top):.1f}" for i, (s, v) in enumerate(loss))
    dots = "".join(f'<circle cx="{x(s):.1f}" cy="{y(v, 1.0):.1f}" r="3" fill="#d62728"/>' for s, v in dev)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
            f'font-size="11"><rect width="100%" height="100%" fill="white"/>'
            f'<path d="{path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>{dots}'
            f'<text x="40" y="14" fill="#1f77b4">train loss (max {top:.3f})</text>'
            f'<text x="220" y="14" fill="#d62728">dev window F1 (0-1)</text>'
            f'<text x="{width - 80}" y="{height - 8}">step {last}</text></svg>')


def _teacher_section(info: dict) -> str:
    distill = info["config"].get("distill")
    if not distill:
        return ""
    summary = info.get("teacher_records", {})
    rows = "\n".join(f"| {corpus} | {d['records']:,} | {d['chars']:,} | {d['entities']:,} |"
                      for corpus, d in summary.items())
    return (f"- **Teacher-labelled text** (distillation): the predictions of `{distill['teacher']}` over the "
            f"unlabeled corpora marked `distill = true` in {distill['corpora']}, as hard labels in the train "
            f"split only ({distill['output']}). A document sharing any sentence with an annotation file "
            f"({', '.join(distill['exclude_annotations'])}) is never labelled, so no dev, test or blind article "
            "reaches the student.\n\n| corpus | records | chars | teacher entities |\n|---|---:|---:|---:|\n"
            + rows + "\n")


def write_card(model_dir: Path, info: dict, evaluation: dict) -> Path:
    cfg = info["config"]
    arch = cfg["architecture"]
    size_mb = sum(p.stat().st_size for p in model_dir.iterdir() if p.is_file()) / 1e6
    sections = [
        f"# {model_dir.name}: Korean news entity model for kfact\n",
        f"A BERT token classifier ({arch['num_hidden_layers']} layers, hidden {arch['hidden_size']}, "
        f"{arch['num_attention_heads']} heads, {info['parameters'] / 1e6:.1f}M parameters, {size_mb:.1f} MB) "
        f"{'trained from scratch' if not cfg['model']['base'] else 'fine-tuned from ' + cfg['model']['base']}"
        f"{' (word embeddings frozen)' if cfg['training'].get('freeze_word_embeddings') else ''} "
        f"on CPU, over Kiwi morphemes (merged where they overlap). Trained {date.today().isoformat()} on "
        f"{platform.machine()} with {cfg['training']['num_threads']} threads in {info['train_seconds'] / 60:.1f} min.\n",
        "## Labels\n",
        ", ".join(cfg["data"]["labels"]) + " (BIO over words; the first subword carries the label).\n",
        "## Data\n",
        "- **KMOU NER** (`../shared/data/external/kmou-ner`, read in place), split by file: "
        f"{cfg['data']['kmou_dev_percent']}% dev, {cfg['data']['kmou_test_percent']}% test. "
        "**License: non-commercial use only** (upstream: \"DO NOT use this dataset for commercial use\"). "
        "This model inherits that restriction.\n"
        "  Label mapping: " + ", ".join(f"{k}→{v}" for k, v in cfg["data"]["kmou_map"].items()) +
        ". `COUNTRY|LOCATION` splits LOC by the country lexicon (pycountry Korean names + configs/countries.toml); "
        "`-` masks the span out of the loss (POH mixes products, works and AI models; DUR mixes durations "
        "and date ranges), and predictions inside masked spans are not scored.\n",
        f"- **kfact annotations** (`{', '.join(cfg['data']['annotations'])}`), written by the team under "
        f"annotations/GUIDELINE.md; train records repeated {cfg['data']['annotation_upsample']}×. "
        "The seeds are in dev (read while building rules), never in train or test.\n",
        _teacher_section(info),
        "| split | records | fingerprint |\n|---|---:|---|\n" + "\n".join(
            f"| {name} | {d['records']} | `{d['fingerprint']}` |" for name, d in info["data"].items()) + "\n",
        f"Span alignment: {info['alignment']['spans']} spans, {info['alignment']['expanded']} expanded to Kiwi "
        f"token bounds, {info['alignment']['lost']} lost.\n",
        "## Training\n",
        _training_section(model_dir, info),
        "## Results\n",
        "Strict span+label P/R/F1 (seqeval over a BIO view of the Kiwi tokens), end to end through the "
        "pipeline; the test split was evaluated once, after the dev-selected epoch.\n",
    ]
    for split in ("test", "dev"):
        for group, metrics in evaluation.get(split, {}).items():
            sections.append(f"### {split} — {group} ({metrics['records']} records, "
                            f"{metrics['chars_per_second']:,} chars/s)\n\n{_table(metrics)}\n")
    sections += [
        "## Limits\n",
        "- MODEL has few training examples (our annotations only; KMOU has no such tag): expect low recall.\n",
        "- Trained on sentence-level news; long crawl noise (menus, tickers) is out of domain.\n",
        "## Reproduce\n",
        f"```\nkfact {'distill' if cfg.get('distill') else 'train'} --config {info['config_file']} "
        "--output models/<new-name>\n```\n"
        "Everything else (config, labels, data fingerprints, history) is in `training.json`, "
        "and the numbers above in `metrics.json`.\n",
    ]
    card = model_dir / "README.md"
    card.write_text("\n".join(sections), encoding="utf-8")
    (model_dir / "metrics.json").write_text(json.dumps(evaluation, indent=2), encoding="utf-8")
    return card
