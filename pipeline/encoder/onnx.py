"""The encoder as an ONNX Runtime int8 graph: the linker's sentence vectors at about twice torch's speed on CPU.

`kfact encoder build` exports it beside the transformers weights (models/e5-small-ko/model.int8.onnx), with
the weights' SHA-256 in model.int8.onnx.source.json; the loader refuses a graph exported from other weights.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from pipeline.ner.onnx_export import (check_graph_matches, export_graph, make_session, quantize_int8, source_stamp,
                                      tensor_output, weights_hash)

INT8_GRAPH = "model.int8.onnx"
MAX_FP32_DIFF = 1e-3  # exported fp32 graph against torch, on hidden states, before quantizing


def export_encoder_int8(model_dir: Path, target: Path | None = None) -> Path:
    """Export the encoder's last hidden states (fp32, checked against torch), quantize to int8, stamp."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), add_pooling_layer=False).eval()
    target = target or model_dir / INT8_GRAPH
    wrapped = tensor_output(model, "last_hidden_state")
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        export_graph(wrapped, fp32, "hidden")
        session = make_session(fp32)
        generator = torch.Generator().manual_seed(1)
        check_ids = torch.randint(5, model.config.vocab_size, (3, 40), generator=generator)
        check_mask = torch.ones_like(check_ids)
        check_mask[0, 20:] = 0
        with torch.inference_mode():
            expected = wrapped(check_ids, check_mask).numpy()
        got = session.run(None, {"input_ids": check_ids.numpy(), "attention_mask": check_mask.numpy()})[0]
        keep = check_mask.numpy().astype(bool)
        diff = float(abs(expected - got)[keep].max())
        if diff > MAX_FP32_DIFF:
            raise RuntimeError(f"exported encoder graph differs from torch by {diff:.2e}; not written")
        staged = Path(tmp) / INT8_GRAPH
        quantize_int8(fp32, staged)
        staged.replace(target)
    source_stamp(target).write_text(json.dumps({"weights_sha256": weights_hash(model_dir)}), encoding="utf-8")
    return target


def load_int8_session(model_dir: Path):
    """The int8 graph beside the weights; refused when missing or exported from other weights."""
    graph = model_dir / INT8_GRAPH
    if not graph.is_file():
        raise FileNotFoundError(f"no {INT8_GRAPH} in {model_dir}: run `kfact encoder build --force` "
                                f"(or set the linker's encoder_backend to torch)")
    check_graph_matches(graph, model_dir)
    return make_session(graph)
