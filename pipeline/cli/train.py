"""kfact train, distill, train-linker, export-onnx: the entity model and the linker's scorers (pipeline/training/)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli.render import console, fail, print_comparison, print_cv_report, print_linker_report


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
    """Train the entity model (KMOU + annotations), pick the best dev evaluation, write a model directory;
    then compare it with the current model on the fixed test split (per-label deltas)."""
    from pipeline.training.entity_model import TrainConfig

    cfg = TrainConfig.from_toml(config)
    _train_then_guard(cfg, output, annotations, overwrite, resume, baseline, guard,
                      guard_gold, max_f1_drop)


@app.command()
def distill(
    config: Path = typer.Option(Path("configs/ner_student.toml"), help="Student config (TOML) with a [distill] section."),
    output: Optional[Path] = typer.Option(None, help="Model directory (default: model.output_dir in the config)."),
    label_only: bool = typer.Option(False, help="Write the teacher's records and stop (no training)."),
    overwrite: bool = typer.Option(False, help="Replace an existing model directory."),
    resume: bool = typer.Option(False, help="Training: continue from the checkpoint in OUTPUT.tmp/."),
    guard: bool = typer.Option(True, help="Regression guard against --baseline on the test split."),
    baseline: Optional[Path] = typer.Option(None, help="Model the guard compares with (default: the shipped model)."),
) -> None:
    """Distil the teacher (the accurate model) into a small student: label the unlabeled corpora marked
    `distill = true` (appending to what an interrupted run wrote), then train on gold plus those records."""
    from pipeline.training.distill import label_corpora
    from pipeline.training.entity_model import TrainConfig

    cfg = TrainConfig.from_toml(config)
    if cfg.distill is None:
        fail(f"{config} has no [distill] section")
    try:
        label_corpora(cfg.distill, log=console.print)
    except (ValueError, FileNotFoundError) as error:
        fail(str(error))
    if not label_only:
        _train_then_guard(cfg, output, None, overwrite, resume, baseline, guard, ["annotations/*.jsonl"], None)


def _train_then_guard(cfg, output: Optional[Path], annotations: Optional[list[str]], overwrite: bool, resume: bool,
                      baseline: Optional[Path], guard: bool, guard_gold: list[str],
                      max_f1_drop: Optional[float]) -> None:
    """The training run of `train` and `distill`, then the regression guard against the current model."""
    from pipeline.io.annotations import AnnotationError
    from pipeline.training.entity_model import train as run_training

    try:
        # collect_records reads the annotation files first: a bad span stops it before any corpus or training.
        info = run_training(cfg, output, annotations, overwrite=overwrite, log=console.print, resume=resume)
    except (AnnotationError, FileExistsError, FileNotFoundError) as error:
        fail(str(error))
    console.print(f"trained in {info['train_seconds']:.0f}s; best epoch {info['best_epoch']}")
    if guard:
        _guard(Path(output or cfg.model.output_dir), baseline, guard_gold, max_f1_drop)


def _guard(new_model: Path, baseline: Optional[Path], gold: list[str], max_f1_drop: Optional[float]) -> None:
    from pipeline.cli.evaluate import load_gold
    from pipeline.paths import resolve_model
    from pipeline.training.guard import regression_guard

    baseline = resolve_model(baseline)
    if not (baseline / "config.json").is_file() or baseline.resolve() == new_model.resolve():
        console.print(f"regression guard skipped: no other model at {baseline} to compare with")
        return
    records = load_gold(gold, "test")
    console.print(f"regression guard: {new_model} vs {baseline} on {len(records)} test records of {', '.join(gold)}")
    result = regression_guard(new_model, baseline, records)
    print_comparison(result.comparison)
    console.print(f"entity micro F1 {result.micro_delta:+.3f} against {baseline}; wrote {result.path}")
    if result.regressed(max_f1_drop):
        fail(f"regression: entity micro F1 dropped by {-result.micro_delta:.3f} (> --max-f1-drop {max_f1_drop}); "
             f"the model stays in {new_model} but should not replace {baseline}", code=5)


def _gold_claims(annotations: list[str]) -> list:
    """The gold records of train-linker and cv-linker, validated against the taxonomy (a bad file stops here)."""
    from pipeline.io.annotations import AnnotationError, load_annotations
    from pipeline.linking.taxonomy import load_indicators

    try:
        return load_annotations(annotations, {i.id for i in load_indicators()})
    except AnnotationError as error:
        fail(str(error))


@app.command("train-linker")
def train_linker_cmd(
    annotations: list[str] = typer.Option(["annotations/*.jsonl"], help="Gold claim files or globs."),
    output: Path = typer.Option(Path("models/kfact-linker/scorer.json")),
    test: bool = typer.Option(False, "--test", help="Also score the test split (report it once, at the end)."),
    encoder_backend: str = typer.Option("torch", help="torch | onnx-int8 | static: the encoder whose vectors the "
                                                      "scorer is trained on (set the same encoder_backend in "
                                                      "configs/pipeline.cfg; models/kfact-linker-static is static's)."),
    threshold: Optional[float] = typer.Option(None, help="Claim threshold to ship instead of dev's choice "
                                                          "(`kfact cv-linker` prints the cross-validated one)."),
    other_bias: Optional[float] = typer.Option(None, help="`other` bias to ship instead of dev's choice."),
) -> None:
    """Learn the linker's rankers (subject, indicator, year) and claim model from gold claims; report rules vs
    learned on dev (and test with --test)."""
    from pipeline.linking.linker import LinkerConfig, build_linker
    from pipeline.nlp import blank_pipeline
    from pipeline.training.linker import train_linker

    records = _gold_claims(annotations)
    # the linker of configs/pipeline.cfg, rules only, on the backend the scorer is trained for
    linker = build_linker(LinkerConfig.from_pipeline_config(scorer_path="", encoder_backend=encoder_backend))
    report = train_linker(blank_pipeline(), linker, records, output, log=console.print,
                          splits=("dev", "test") if test else ("dev",), threshold=threshold, other_bias=other_bias)
    print_linker_report(report, output)


@app.command("cv-linker")
def cv_linker_cmd(
    annotations: list[str] = typer.Option(["annotations/*.jsonl"], help="Gold claim files or globs."),
    folds: int = typer.Option(4, help="Folds, by article, over the train and dev records (test and blind never)."),
    encoder_backend: str = typer.Option("torch", help="torch | onnx-int8 | static: the encoder whose vectors the "
                                                      "recipe uses."),
    report_path: Optional[Path] = typer.Option(None, "--report", help="Also write the report (folds and the whole "
                                                                       "threshold x other-bias sweep) as JSON."),
) -> None:
    """Score the linker's recipe by article-grouped cross-validation over train+dev (gold entities): a choice
    between two versions of the linker's code or configs rests on ~2,500 claims instead of dev's ~500."""
    from pipeline.linking.linker import LinkerConfig, build_linker
    from pipeline.nlp import blank_pipeline
    from pipeline.training.linker import cross_validate

    records = _gold_claims(annotations)
    try:
        linker = build_linker(LinkerConfig.from_pipeline_config(scorer_path="", encoder_backend=encoder_backend))
        report = cross_validate(blank_pipeline(), linker, records, folds, log=console.print)
    except ValueError as error:
        fail(str(error))
    print_cv_report(report, folds)
    if report_path is not None:
        report_path.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")


@app.command("export-onnx")
def export_onnx_cmd(
    model: Optional[Path] = typer.Option(None, help="Entity model: fast, accurate (configs/models.toml) or a directory (default: fast)."),
    output: Optional[Path] = typer.Option(None, help="Directory for model.onnx (default: the model directory; "
                                                     "*.onnx files under models/ are git-ignored)."),
    quantize: bool = typer.Option(False, help="Also write model.int8.onnx (dynamic int8 quantization)."),
) -> None:
    """Export the entity model to ONNX (dynamic batch and sequence axes), checked against torch."""
    from pipeline.ner.onnx_export import export_onnx
    from pipeline.paths import resolve_model

    model_dir = resolve_model(model)
    try:
        result = export_onnx(model_dir, output, quantize=quantize)
    except (FileNotFoundError, RuntimeError) as error:
        fail(str(error), code=3)
    console.print(f"wrote {result.fp32} ({result.fp32.stat().st_size / 1e6:.1f} MB); vs torch: max |logit diff| "
                  f"{result.max_abs_diff:.1e}, argmax agreement {result.argmax_agreement:.2%}")
    if result.int8:
        console.print(f"wrote {result.int8} ({result.int8.stat().st_size / 1e6:.1f} MB)")
    where = f" --model {result.fp32.parent}" if output else ""
    console.print(f"use it: kfact extract ...{where} --backend onnx"
                  + (f" [--onnx-path {result.int8.name}]" if result.int8 else ""))


taxonomy_app = typer.Typer(no_args_is_help=True, help="The indicator taxonomy (configs/indicators.toml).")
app.add_typer(taxonomy_app, name="taxonomy")


@taxonomy_app.command("suggest")
def taxonomy_suggest(output: Path = typer.Argument(..., help="An extract output JSONL."),
                     limit: int = typer.Option(30, help="How many phrases to list.")) -> None:
    """The phrases `other` claims name most often: candidates for new entries in configs/indicators.toml."""
    from pipeline.cli.render import print_suggestions
    from pipeline.linking.suggest import suggest

    if not output.is_file():
        fail(f"{output} is not a file")
    print_suggestions(suggest(output, limit))
