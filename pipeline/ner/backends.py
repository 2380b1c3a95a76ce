"""The entity model's runtimes: the transformers module under torch, or an exported graph under ONNX Runtime.

Both load a local model directory (or, for torch, a hub id when online) and turn input ids and an
attention mask into logits [batch, sequence, labels]. Errors name the missing file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

BACKENDS = ("torch", "onnx")


class TorchBackend:
    name = "torch"

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer, self.config = model.eval(), tokenizer, model.config

    @classmethod
    def load(cls, path: str | Path) -> "TorchBackend":
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        _check_directory(path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            model = AutoModelForTokenClassification.from_pretrained(str(path))
        except (OSError, ValueError) as error:
            raise RuntimeError(f"cannot load entity model from {path}: {error}") from error
        return cls(model.float(), tokenizer)  # float16 weights on disk, float32 on the CPU

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model(input_ids=torch.from_numpy(input_ids),
                              attention_mask=torch.from_numpy(attention_mask)).logits.numpy()


class OnnxBackend:
    name = "onnx"

    def __init__(self, session, tokenizer, config):
        self.session, self.tokenizer, self.config = session, tokenizer, config

    @classmethod
    def load(cls, path: str | Path, onnx_path: str | Path | None = None) -> "OnnxBackend":
        """Config and tokenizer from the directory, the graph from `onnx_path` (default `<path>/model.onnx`;
        a bare file name is looked up in the directory)."""
        from transformers import AutoConfig, AutoTokenizer

        from pipeline.ner.onnx_export import check_graph_matches, make_session

        _check_directory(path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            config = AutoConfig.from_pretrained(str(path))
        except (OSError, ValueError) as error:
            raise RuntimeError(f"cannot load entity model from {path}: {error}") from error
        graph = resolve_onnx_path(Path(path), onnx_path)
        if not graph.is_file():
            raise FileNotFoundError(f"no ONNX graph at {graph}: run `kfact export-onnx` (see README) "
                                    f"or set components.kfact_ner.onnx_path")
        check_graph_matches(graph, path)
        # One intra-op thread per torch thread: workers run single-threaded, the main process uses the cores.
        return cls(make_session(graph, threads=torch_threads()), tokenizer, config)

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        return self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": attention_mask})[0]


def load_backend(kind: str, path: str | Path, onnx_path: str | Path | None = None):
    if kind not in BACKENDS:
        raise ValueError(f"kfact_ner backend must be one of {BACKENDS}, not {kind!r}")
    return TorchBackend.load(path) if kind == "torch" else OnnxBackend.load(path, onnx_path)


def _check_directory(path: str | Path) -> None:
    local = Path(path)
    if local.exists() and not (local / "config.json").is_file():
        raise FileNotFoundError(f"model directory {local} lacks config.json")


def resolve_onnx_path(model_dir: Path, onnx_path: str | Path | None) -> Path:
    """None -> <model_dir>/model.onnx; a bare file name ("model.int8.onnx") -> inside model_dir; else as given."""
    from pipeline.ner.onnx_export import FP32_NAME

    if onnx_path is None or str(onnx_path) == "":
        return model_dir / FP32_NAME
    candidate = Path(onnx_path)
    if len(candidate.parts) == 1 and (model_dir / candidate).is_file():
        return model_dir / candidate
    return candidate


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def torch_threads() -> int:
    """The process's torch thread setting (workers set 1), without importing torch just to ask."""
    import os
    import sys

    if "torch" in sys.modules:
        return sys.modules["torch"].get_num_threads()
    return os.cpu_count() or 1
