"""Windows over an article for the entity model: whole Kiwi sentences packed up to `max_subwords`; a
sentence longer than that is split into cores with context on each side. Each word is predicted exactly
once (in its core), so nothing is truncated and nothing is predicted twice."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Sequence

from spacy.tokens import Doc


@dataclass(frozen=True)
class Window:
    """Words [start, end) go to the model; words [core_start, core_end) take its predictions."""

    start: int
    end: int
    core_start: int
    core_end: int


def plan_windows(
    sentences: Sequence[tuple[int, int]], subword_counts: Sequence[int], max_subwords: int, context_subwords: int
) -> list[Window]:
    """Pack sentences (word ranges) into windows of at most max_subwords subwords (special tokens excluded)."""
    budget = max(1, max_subwords)
    windows: list[Window] = []
    pack_start, pack_len = None, 0

    def flush(end: int) -> None:
        nonlocal pack_start, pack_len
        if pack_start is not None and end > pack_start:
            windows.append(Window(pack_start, end, pack_start, end))
        pack_start, pack_len = None, 0

    for s, e in sentences:
        length = sum(subword_counts[s:e])
        if length > budget:
            flush(s)
            windows.extend(_split_long(s, e, subword_counts, budget, context_subwords))
        elif pack_start is not None and pack_len + length > budget:
            flush(s)
            pack_start, pack_len = s, length
        else:
            if pack_start is None:
                pack_start = s
            pack_len += length
    if pack_start is not None:
        flush(sentences[-1][1])
    return windows


def _split_long(s: int, e: int, counts: Sequence[int], budget: int, context: int) -> list[Window]:
    context = min(context, budget // 4)
    core_budget = max(1, budget - 2 * context)
    windows = []
    core_start = s
    while core_start < e:
        core_end, used = core_start, 0
        while core_end < e and (used + counts[core_end] <= core_budget or core_end == core_start):
            used += counts[core_end]
            core_end += 1
        left, left_used = core_start, 0
        while left > s and left_used + counts[left - 1] <= context:
            left -= 1
            left_used += counts[left]
        right, right_used = core_end, 0
        while right < e and right_used + counts[right] <= context:
            right_used += counts[right]
            right += 1
        windows.append(Window(left, right, core_start, core_end))
        core_start = core_end
    return windows


def sentence_word_ranges(doc: Doc, word_token_ids: Sequence[int]) -> list[tuple[int, int]]:
    """Kiwi sentence boundaries expressed as ranges over the model's word list."""
    ranges: list[tuple[int, int]] = []
    start = 0
    for w, token_i in enumerate(word_token_ids):
        if w > start and doc[token_i].is_sent_start:
            ranges.append((start, w))
            start = w
    if word_token_ids:
        ranges.append((start, len(word_token_ids)))
    return ranges


_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}  # ＡＢＣ１２３％ -> ABC123%


def model_word(text: str) -> str:
    """What the model reads for a token: NFC (decomposed Hangul would be all [UNK]) with full-width ASCII
    folded (１２３억 reads as 123억). Only the model's input changes; offsets stay the Doc's."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text.translate(_FULLWIDTH)


def subword_counts(tokenizer, words: Sequence[str]) -> list[int]:
    """Subwords per word, from one fast-tokenizer call; a word that vanishes counts 0."""
    if not words:
        return []
    encoding = tokenizer(list(words), is_split_into_words=True, add_special_tokens=False)
    counts = [0] * len(words)
    for word_id in encoding.word_ids():
        if word_id is not None:
            counts[word_id] += 1
    return counts



def noise_words(doc: Doc, token_ids: Sequence[int], sentences: Sequence[tuple[int, int]]) -> list[bool]:
    """Per word: does it belong to a sentence that lies wholly inside a noise range?

    The entity model plans its windows as without noise (the small model is sensitive to how
    sentences are packed, so the article's body gets the same windows either way) and skips the
    windows whose core is all noise: seed 000's repeated half, appended ticker tables.
    """
    mask = [False] * len(token_ids)
    ranges = doc._.noise
    if not ranges:
        return mask
    for s, e in sentences:
        first, last = doc[token_ids[s]], doc[token_ids[e - 1]]
        start, end = first.idx, last.idx + len(last.text)
        if any(r.start <= start and end <= r.end for r in ranges):
            mask[s:e] = [True] * (e - s)
    return mask


