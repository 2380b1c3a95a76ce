"""`kfact export-onnx`: the entity model as an ONNX graph for ONNX Runtime, optionally int8.

The graph takes `input_ids` and `attention_mask` (int64, [batch, sequence], both axes dynamic)
and returns `logits` [batch, sequence, labels], exactly what the torch backend of `kfact_ner`
feeds and reads. Dynamic int8 quantization (weights int8, activations quantized on the fly)
cuts the file to about a quarter and speeds up the CPU forward; `kfact bench` and the dev F1
check in the README say by how much and at what cost.

The files are derived from the model weights, so they are written beside them by default
(`model.onnx`, `model.int8.onnx`) and are git-ignored rather than shipped.
"""
from __future__ import annotations

import contextlib
import json
import io
import logging
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

FP32_NAME = "model.onnx"
INT8_NAME = "model.int8.onnx"
INPUT_NAMES = ("input_ids", "attention_mask")
OPSET = 18


@dataclass
class ExportResult:
    fp32: Path
    int8: Path | None
    max_abs_diff: float  # largest |torch - onnx| logit on the check batch
    argmax_agreement: float  # share of check positions where both backends pick the same label


def export_onnx(model_dir: str | Path, output_dir: str | Path | None = None, quantize: bool = False,
                opset: int = OPSET) -> ExportResult:
    """Export a local token-classification model directory; check the graph against torch before returning."""
    from transformers import AutoModelForTokenClassification

    model_dir = Path(model_dir)
    output_dir = Path(output_dir) if output_dir else model_dir
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"model directory {model_dir} lacks config.json")
    model = AutoModelForTokenClassification.from_pretrained(str(model_dir)).eval()
    limit = getattr(model.config, "max_position_embeddings", 512)
    wrapped = tensor_output(model, "logits")

    output_dir.mkdir(parents=True, exist_ok=True)
    fp32 = output_dir / FP32_NAME
    with tempfile.TemporaryDirectory(dir=output_dir) as tmp:
        # Written to a temporary name first: a half-written model.onnx must never be picked up.
        staged = Path(tmp) / FP32_NAME
        export_graph(wrapped, staged, "logits", opset)
        diff, agreement = _check(wrapped, staged, limit)
        if agreement < 1.0:
            raise RuntimeError(f"exported graph disagrees with torch on {1 - agreement:.2%} of positions "
                               f"(max |diff| {diff:.2e}); not written")
        staged.replace(fp32)
        int8 = None
        if quantize:
            int8 = output_dir / INT8_NAME
            staged_int8 = Path(tmp) / INT8_NAME
            quantize_int8(fp32, staged_int8)
            staged_int8.replace(int8)
    if output_dir.resolve() != model_dir.resolve():
        copy_model_files(model_dir, output_dir)
    stamp = {"weights_sha256": weights_hash(model_dir)}
    for graph in (fp32, int8):
        if graph is not None:
            source_stamp(graph).write_text(json.dumps(stamp), encoding="utf-8")
    return ExportResult(fp32=fp32, int8=int8, max_abs_diff=diff, argmax_agreement=agreement)


def tensor_output(inner, output: str):
    """`inner` (a transformers model) as a module that returns only its `output` field (logits,
    last_hidden_state): the exporter wants tensors, not a ModelOutput dataclass, at the boundary."""
    import torch

    class TensorOutput(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return getattr(self.inner(input_ids=input_ids, attention_mask=attention_mask), output)

    return TensorOutput().eval()


def export_graph(wrapped, path: Path, output_name: str, opset: int = OPSET) -> None:
    """torch.onnx.export of a `tensor_output` module with dynamic batch and sequence axes (bounded by the model's position
    table), quietly: the exporter narrates its passes on stdout and warns about its own internals."""
    import torch

    config = wrapped.inner.config
    limit = getattr(config, "max_position_embeddings", 512)
    # The exporter logs a warning per torchvision op it cannot register; these models use none of them.
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    # Example shapes must differ from 0/1 so torch.export does not specialize them away.
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, config.vocab_size, (2, 16), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 11:] = 0
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence", max=limit)
    dynamic = {name: {0: batch, 1: sequence} for name in INPUT_NAMES}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", (UserWarning, FutureWarning, DeprecationWarning))
        torch.onnx.export(wrapped, (ids, mask), str(path), input_names=list(INPUT_NAMES), output_names=[output_name],
                          dynamic_shapes=dynamic, opset_version=opset, dynamo=True, external_data=False,
                          verbose=False)


def quantize_int8(source: Path, target: Path) -> Path:
    """Dynamic int8 quantization of the MatMul/Gather weights (no calibration data needed)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        # Pre-processing (ONNX shape inference + graph optimization) lets more nodes quantize;
        # the symbolic pass cannot reason about the exporter's bounded sequence axis, so it is skipped.
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_dynamic(str(prepared), str(target), weight_type=QuantType.QInt8)
    return target


def _check(wrapped, path: Path, limit: int) -> tuple[float, float]:
    """Torch vs ONNX Runtime on ragged batches of several shapes: max logit difference, argmax agreement."""
    import numpy as np
    import torch

    session = make_session(path, threads=1)
    generator = torch.Generator().manual_seed(1)
    worst, same, total = 0.0, 0, 0
    for batch, length in ((1, 3), (5, 40), (3, min(limit, 130))):
        ids = torch.randint(5, wrapped.inner.config.vocab_size, (batch, length), generator=generator)
        mask = torch.ones_like(ids)
        mask[0, max(1, length // 2):] = 0  # padded row, as in real batches
        with torch.inference_mode():
            expected = wrapped(ids, mask).numpy()
        got = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
        keep = mask.numpy().astype(bool)
        worst = max(worst, float(np.abs(expected - got)[keep].max()))
        same += int((expected.argmax(-1) == got.argmax(-1))[keep].sum())
        total += int(keep.sum())
    return worst, same / total


def make_session(path: str | Path, threads: int = 1):
    """An ONNX Runtime CPU session; parallelism comes from worker processes, as for torch."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initializers are noise here
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def copy_model_files(model_dir: Path, target: Path) -> None:
    """Config, tokenizer and card beside the ONNX files, so `--model TARGET --backend onnx` needs nothing else."""
    for item in model_dir.iterdir():
        if item.is_file() and item.suffix not in (".onnx", ".safetensors", ".bin"):
            shutil.copy2(item, target / item.name)


def weights_hash(model_dir: str | Path) -> str:
    """SHA-256 of the weights a graph was exported from (model.safetensors)."""
    import hashlib

    digest = hashlib.sha256()
    with open(Path(model_dir) / "model.safetensors", "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_stamp(graph: Path) -> Path:
    """The file beside a graph that names the weights it came from: model.onnx -> model.onnx.source.json."""
    return graph.with_name(graph.name + ".source.json")


def check_graph_matches(graph: Path, model_dir: str | Path) -> None:
    """Refuse a graph exported from other weights than the directory's (or one with no record of its source).
    A directory without weights (an exported graph with its tokenizer and config only) has nothing to differ."""
    if not (Path(model_dir) / "model.safetensors").is_file():
        return
    stamp = source_stamp(graph)
    if not stamp.is_file():
        raise RuntimeError(f"{graph} has no {stamp.name}: it cannot be matched to the weights in {model_dir}; "
                           f"re-export it with `kfact export-onnx --model {model_dir}`")
    expected = json.loads(stamp.read_text(encoding="utf-8")).get("weights_sha256")
    if expected != weights_hash(model_dir):
        raise RuntimeError(f"{graph} was exported from other weights than {model_dir}/model.safetensors holds now; "
                           f"re-export it with `kfact export-onnx --model {model_dir}`")
