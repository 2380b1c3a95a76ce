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


class SentenceEncoder:
    def __init__(self, tokenizer, model, max_length: int = 128, batch_size: int = 32, tag: str = ""):
        self.tokenizer, self.model = tokenizer, model.eval()
        self.max_length, self.batch_size = max_length, batch_size
        self.tag = tag  # which weights the vectors come from (the disk cache's key)

    @classmethod
    def load(cls, path: str | Path, **kwargs) -> "SentenceEncoder":
        """A local transformers directory (models/e5-small-ko from `kfact encoder build`), or a hub id online."""
        from transformers import AutoModel, AutoTokenizer

        local = Path(path)
        if local.exists() and not (local / "config.json").is_file():
            raise FileNotFoundError(f"encoder directory {local} lacks config.json (run `kfact encoder build`)")
        if not local.exists() and local.parts and local.parts[0] in ("models", ".", ".."):
            raise FileNotFoundError(f"no encoder at {local}: run `kfact encoder build` (make install does)")
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            model = AutoModel.from_pretrained(str(path), add_pooling_layer=False)
        except (OSError, ValueError) as error:
            raise RuntimeError(f"cannot load the encoder from {path}: {error}") from error
        stamp = local / "kfact_build.json"
        tag = stamp.read_text(encoding="utf-8") if stamp.is_file() else str(path)
        return cls(tokenizer, model, tag=hashlib.sha1(tag.encode("utf-8")).hexdigest()[:16], **kwargs)

    def embed(self, texts: Sequence[str], prefix: str = "query: ") -> np.ndarray:
        """[len(texts), hidden] unit vectors; batches by length, so padding costs little. With
        KFACT_EMBED_CACHE=DIR, vectors are kept on disk by text (training and evaluation repeat texts)."""
        cache = _disk_cache()
        if cache is None:
            return self._embed(texts, prefix)
        keys = [hashlib.sha1((self.tag + prefix + t).encode("utf-8")).hexdigest() for t in texts]
        found = cache.get_many(keys)
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            fresh = self._embed([texts[i] for i in missing], prefix)
            cache.put_many({keys[i]: fresh[j] for j, i in enumerate(missing)})
            found.update({keys[i]: fresh[j] for j, i in enumerate(missing)})
        hidden = self.model.config.hidden_size
        return np.stack([found[key] for key in keys]) if keys else np.zeros((0, hidden), dtype=np.float32)

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                batch = self.tokenizer([prefix + texts[i] for i in chunk], padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt")
                hidden = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                vectors = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
                out[chunk] = vectors.numpy()
        return out


@functools.lru_cache(maxsize=2)
def shared_encoder(path: str) -> SentenceEncoder:
    """One encoder per process and path: the linker of every pipeline in a worker shares it."""
    return SentenceEncoder.load(path)


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
