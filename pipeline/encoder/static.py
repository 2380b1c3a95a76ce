"""A static piece table distilled from the encoder: the linker's `static` backend, for throughput.

Each piece's vector is e5's output for that piece read alone (`<s> piece </s>`), the way model2vec distils a
sentence encoder; a text's vector is then the mean of its pieces' rows, with no transformer pass. The table is
built from the converted directory by `kfact encoder build` (so it needs no corpus) and stored beside it as
static.npy (float16, [vocab, hidden]).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

STATIC_TABLE = "static.npy"


def build_static_table(model_dir: Path, batch_size: int = 512) -> Path:
    """Embed every piece of the directory's vocabulary alone; write static.npy and its source stamp."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from pipeline.ner.onnx_export import source_stamp, weights_hash

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir), add_pooling_layer=False).eval()
    vocab, hidden = model.config.vocab_size, model.config.hidden_size
    table = np.zeros((vocab, hidden), dtype=np.float32)
    bos, eos = tokenizer.cls_token_id, tokenizer.sep_token_id
    with torch.inference_mode():
        for start in range(0, vocab, batch_size):
            ids = torch.arange(start, min(start + batch_size, vocab))
            batch = torch.stack([torch.full_like(ids, bos), ids, torch.full_like(ids, eos)], dim=1)
            table[start:start + len(ids)] = model(input_ids=batch).last_hidden_state[:, 1].numpy()
    target = model_dir / STATIC_TABLE
    np.save(target, table.astype(np.float16))
    source_stamp(target).write_text(json.dumps({"weights_sha256": weights_hash(model_dir)}), encoding="utf-8")
    return target


def load_static_table(model_dir: Path) -> np.ndarray:
    """The table beside the weights, as float32; refused when missing or built from other weights."""
    from pipeline.ner.onnx_export import source_stamp, weights_hash

    target = model_dir / STATIC_TABLE
    stamp = source_stamp(target)  # static.npy.source.json, as the int8 graph's
    if not target.is_file() or not stamp.is_file():
        raise FileNotFoundError(f"no {STATIC_TABLE} in {model_dir}: run `kfact encoder build --force` "
                                f"(or set the linker's encoder_backend to torch)")
    if json.loads(stamp.read_text(encoding="utf-8")).get("weights_sha256") != weights_hash(model_dir):
        raise ValueError(f"{target} was built from other weights than {model_dir}: run `kfact encoder build --force`")
    return np.load(target).astype(np.float32)
