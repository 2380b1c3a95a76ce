"""Shared fixtures: one blank pipeline and one tiny trained model per test session."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHIPPED_MODEL = ROOT / "models" / "kfact-ner-student"


@pytest.fixture(scope="session")
def nlp_blank():
    from pipeline.nlp import blank_pipeline

    return blank_pipeline()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A 1-layer, 32-wide model trained for one epoch on 400 KMOU sentences (~20 s)."""
    if not (SHARED / "data" / "external" / "kmou-ner").is_dir():
        pytest.skip("../shared/data/external/kmou-ner is not beside the repo")
    from pipeline.training.entity_model import TrainConfig, train

    cfg = TrainConfig.from_toml(ROOT / "configs" / "ner_tiny.toml")
    cfg.data.kmou_dir = str(SHARED / "data" / "external" / "kmou-ner" / "corpus")
    cfg.data.annotations = [str(ROOT / "annotations" / "*.jsonl")]
    out = tmp_path_factory.mktemp("models") / "tiny"
    train(cfg, output_dir=out, log=lambda message: None, evaluate=False)
    return out


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    if not (SHIPPED_MODEL / "config.json").is_file():
        pytest.fail(f"the shipped model is missing at {SHIPPED_MODEL}")
    return SHIPPED_MODEL


@pytest.fixture(scope="session")
def onnx_model_dir(shipped_model, tmp_path_factory) -> Path:
    """The shipped model exported once per session (model.onnx + model.int8.onnx, ~15 s), outside models/."""
    from pipeline.ner.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("onnx")
    export_onnx(shipped_model, out, quantize=True)
    return out


@dataclass
class KfactRun:
    returncode: int
    stdout: str
    stderr: str


def run_kfact(*args: str, cwd: Path = ROOT, timeout: int = 600, subprocess: bool = False) -> KfactRun:
    """`kfact ARGS` in this process through typer's runner (an uncaught exception's traceback goes to stderr,
    as the console script would print it), or in a real child process where the process itself is under test."""
    if subprocess:
        import subprocess as sp
        import sys

        env = dict(os.environ, PYTHONIOENCODING="utf-8", COLUMNS="200")
        done = sp.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True,
                      timeout=timeout, env=env)
        return KfactRun(done.returncode, done.stdout, done.stderr)
    import traceback

    from typer.testing import CliRunner

    from pipeline.cli import app

    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    finally:
        os.chdir(previous)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return KfactRun(result.exit_code, result.stdout, stderr)
