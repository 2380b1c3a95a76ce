"""Which of e5's 250k SentencePiece pieces a Korean model keeps (`kfact encoder pieces`).

Kept: the pieces of e5's "query: " and "passage: " prefixes, every piece that the full tokenizer produces on
the unlabeled corpora (configs/corpora.toml), both
on raw text (the linker's sentence embeddings) and on Kiwi words (the entity model), every
single-character piece (so that unseen words still spell out), and the pieces of highest Unigram score
(the most frequent pieces of e5's multilingual training text). The list ships as data
(models/e5-small-ko.pieces.tsv), so building the encoder needs no corpus.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable

import numpy as np


# e5 was trained with these prefixes; their pieces must survive pruning whatever the corpora hold.
E5_PREFIXES = ("query: ", "passage: ")


def count_pieces(texts: Iterable[str], tokenizer, kiwi=None, batch: int = 512) -> Counter:
    """Piece ids over raw texts and, with `kiwi`, over their Kiwi words fed as pre-split words; the e5
    prefixes always count."""
    counts: Counter = Counter()
    for prefix in E5_PREFIXES:
        counts.update(tokenizer(prefix, add_special_tokens=False)["input_ids"])
    chunk: list[str] = []

    def flush() -> None:
        for ids in tokenizer(chunk, add_special_tokens=False)["input_ids"]:
            counts.update(ids)
        if kiwi is not None:
            words = [[text[t.start:t.start + t.len] for t in kiwi.tokenize(text)] for text in chunk]
            words = [w for w in words if w]
            if words:
                for ids in tokenizer(words, is_split_into_words=True, add_special_tokens=False)["input_ids"]:
                    counts.update(ids)
        chunk.clear()

    for text in texts:
        chunk.append(text)
        if len(chunk) >= batch:
            flush()
    if chunk:
        flush()
    return counts


def select_pieces(pieces: list[str], scores: np.ndarray, counts: Counter, top_scored: int) -> list[int]:
    keep = {i for i, n in counts.items() if n > 0}
    keep |= {i for i, piece in enumerate(pieces) if len(piece.lstrip("▁")) <= 1}
    keep |= set(np.argsort(-scores)[:top_scored].tolist())
    return sorted(keep)


def write_pieces(path: str | Path, ids: list[int], pieces: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("# piece id in e5-small's SentencePiece vocabulary <TAB> piece (kfact encoder pieces)\n")
        for i in ids:
            handle.write(f"{i}\t{pieces[i]}\n")


def read_pieces(path: str | Path) -> list[int]:
    with open(path, encoding="utf-8") as handle:
        return [int(line.split("\t", 1)[0]) for line in handle if line.strip() and not line.startswith("#")]
