"""One loader for the pretrained encoder: sentence vectors for the linker (and the base the entity model
fine-tunes from). e5 was trained with prefixes: "query: " for what is looked up, "passage: " for what it is
matched against; vectors are mean-pooled over the attention mask and L2-normalized, as e5 defines them."""
from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np


ENCODER_BACKENDS = ("torch", "onnx-int8", "static")


class SentenceEncoder:
    def __init__(self, tokenizer, model, max_length: int = 128, batch_size: int = 32, tag: str = "", session=None,
                 static_table: np.ndarray | None = None):
        self.tokenizer = tokenizer
        self.model = model.eval() if model is not None else None  # None with a static table: no transformer
        self.max_length, self.batch_size = max_length, batch_size
        self.session = session  # an ONNX Runtime session (onnx-int8) or None (torch)
        self.static_table = static_table  # [vocab, hidden] piece vectors (static) or None
        self.backend = "static" if static_table is not None else "onnx-int8" if session is not None else "torch"
        self.hidden_size = static_table.shape[1] if static_table is not None else model.config.hidden_size
        self.tag = tag  # which weights and backend the vectors come from (the disk cache's key)
        self._remembered: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}  # see embed_once

    @classmethod
    def load(cls, path: str | Path, backend: str = "torch", **kwargs) -> "SentenceEncoder":
        """A local transformers directory (models/e5-small-ko from `kfact encoder build`), or a hub id online.
        backend "onnx-int8" runs the int8 graph the build exports beside the weights, "static" the piece table
        (pipeline/encoder/static.py); both local directories only."""
        from transformers import AutoModel, AutoTokenizer

        if backend not in ENCODER_BACKENDS:
            raise ValueError(f"encoder backend must be one of {ENCODER_BACKENDS}, not {backend!r}")
        local = Path(path)
        if local.exists() and not (local / "config.json").is_file():
            raise FileNotFoundError(f"encoder directory {local} lacks config.json (run `kfact encoder build`)")
        if not local.exists() and local.parts and local.parts[0] in ("models", ".", ".."):
            raise FileNotFoundError(f"no encoder at {local}: run `kfact encoder build` (make install does)")
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            model = AutoModel.from_pretrained(str(path), add_pooling_layer=False) if backend != "static" else None
        except (OSError, ValueError) as error:
            raise RuntimeError(f"cannot load the encoder from {path}: {error}") from error
        session = table = None
        if backend == "static":
            from pipeline.encoder.static import load_static_table

            table = load_static_table(local)
        if backend == "onnx-int8":
            from pipeline.encoder.onnx import load_int8_session

            session = load_int8_session(local)
            # Dynamic int8 quantizes activations with one scale per batch, so a text's vector would depend on
            # the texts batched with it; one text per run keeps it a function of the text (and costs nothing:
            # no padding).
            kwargs.setdefault("batch_size", 1)
        stamp = local / "kfact_build.json"
        tag = (stamp.read_text(encoding="utf-8") if stamp.is_file() else str(path)) + backend
        tag += f":batch{kwargs.get('batch_size', 32)}"
        return cls(tokenizer, model, tag=hashlib.sha1(tag.encode("utf-8")).hexdigest()[:16], session=session,
                   static_table=table, **kwargs)

    def _hidden(self, batch) -> np.ndarray:
        """[batch, pieces, hidden] last hidden states of a tokenized batch (static: each piece's row)."""
        if self.static_table is not None:
            return self.static_table[batch["input_ids"].numpy()]
        if self.session is not None:
            return self.session.run(None, {"input_ids": batch["input_ids"].numpy(),
                                           "attention_mask": batch["attention_mask"].numpy()})[0]
        import torch

        with torch.inference_mode():
            return self.model(input_ids=batch["input_ids"],
                              attention_mask=batch["attention_mask"]).last_hidden_state.numpy()

    def embed(self, texts: Sequence[str], prefix: str = "query: ") -> np.ndarray:
        """[len(texts), hidden] unit vectors; batches by length, so padding costs little. With
        KFACT_EMBED_CACHE=DIR, vectors are kept on disk by text (training and evaluation repeat texts)."""
        return self.embed_with_spans(texts, [()] * len(texts), prefix)[0]

    def embed_once(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        """`embed`, remembered on this encoder for the same texts (the indicator passages, which every pipeline
        build in a process would otherwise embed again)."""
        key = (prefix, tuple(texts))
        if key not in self._remembered:
            self._remembered[key] = self.embed(texts, prefix)
        return self._remembered[key]

    def embed_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                         prefix: str = "query: ") -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors, and for each text the vectors of its character spans, from one forward pass per text:
        a span's vector is the mean of the hidden states of the pieces it overlaps, L2-normalized (a span that
        truncation cut off gets a vector of its own). With KFACT_EMBED_CACHE=DIR both are kept on disk."""
        cache = _disk_cache()
        hidden = self.hidden_size
        keys = [hashlib.sha1((self.tag + prefix + t).encode("utf-8")).hexdigest() for t in texts]
        span_keys = [[hashlib.sha1(f"{key}@{a}:{b}".encode("ascii")).hexdigest() for a, b in text_spans]
                     for key, text_spans in zip(keys, spans)]
        found = cache.get_many(keys + [k for ks in span_keys for k in ks]) if cache is not None else {}
        missing = [i for i, key in enumerate(keys) if key not in found or any(k not in found for k in span_keys[i])]
        if missing:
            vectors, span_vectors = self._embed([texts[i] for i in missing], prefix, [spans[i] for i in missing])
            fresh = {}
            for j, i in enumerate(missing):
                fresh[keys[i]] = vectors[j]
                fresh.update(zip(span_keys[i], span_vectors[j]))
            if cache is not None:
                cache.put_many(fresh)
            found.update(fresh)
        text_vectors = np.stack([found[k] for k in keys]) if keys else np.zeros((0, hidden), dtype=np.float32)
        return text_vectors, [np.stack([found[k] for k in ks]) if ks else np.zeros((0, hidden), dtype=np.float32)
                              for ks in span_keys]

    def _embed(self, texts: Sequence[str], prefix: str, spans: Sequence[Sequence[tuple[int, int]]] | None = None):
        """[len(texts), hidden] vectors; with `spans`, also each text's [len(spans[i]), hidden] span vectors."""
        out = np.zeros((len(texts), self.hidden_size), dtype=np.float32)
        span_out = [np.zeros((len(s), out.shape[1]), dtype=np.float32) for s in spans] if spans is not None else None
        cut_off: list[tuple[int, int]] = []  # (text, span) pairs past max_length
        if not texts:
            return out if spans is None else (out, span_out)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            batch = self.tokenizer([prefix + texts[i] for i in chunk], padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="pt",
                                   return_offsets_mapping=spans is not None)
            hidden = self._hidden(batch)
            real = batch["attention_mask"].numpy().astype(bool)
            out[chunk] = _unit(np.stack([hidden[row][real[row]].mean(0) for row in range(len(chunk))]))
            if spans is None:
                continue
            offsets = batch["offset_mapping"].numpy() - len(prefix)  # piece offsets in the text itself
            for row, i in enumerate(chunk):
                starts, ends = offsets[row, :, 0], offsets[row, :, 1]
                for k, (a, b) in enumerate(spans[i]):
                    inside = real[row] & (ends > a) & (starts < b) & (ends > starts) & (ends > 0)
                    if inside.any():
                        span_out[i][k] = _unit(hidden[row][inside].mean(0))
                    else:
                        cut_off.append((i, k))
        if spans is None:
            return out
        if cut_off:
            alone = self._embed([texts[i][spans[i][k][0]:spans[i][k][1]] for i, k in cut_off], prefix)
            for (i, k), vector in zip(cut_off, alone):
                span_out[i][k] = vector
        return out, span_out


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


@functools.lru_cache(maxsize=2)
def shared_encoder(path: str, backend: str = "torch") -> SentenceEncoder:
    """One encoder per process, path and backend: the linker of every pipeline in a worker shares it."""
    return SentenceEncoder.load(path, backend=backend)


class _VectorCache:
    def __init__(self, path: Path):
        path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path / "vectors.sqlite"))
        self.db.execute("CREATE TABLE IF NOT EXISTS v (k TEXT PRIMARY KEY, x BLOB)")

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            query = f"SELECT k, x FROM v WHERE k IN ({','.join('?' * len(chunk))})"
            found.update({k: np.frombuffer(x, dtype=np.float32) for k, x in self.db.execute(query, chunk)})
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO v VALUES (?, ?)",
                                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()])


@functools.lru_cache(maxsize=1)
def _disk_cache() -> _VectorCache | None:
    directory = os.environ.get("KFACT_EMBED_CACHE")
    return _VectorCache(Path(directory)) if directory else None
