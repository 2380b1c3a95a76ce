"""Words, tags and subwords: character spans projected onto Kiwi tokens (BIO), labels aligned to the first
subword of each word, and BIO tags read back into spans."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence


@dataclass
class AlignmentStats:
    spans: int = 0
    misaligned: int = 0  # span edges inside a Kiwi token: expanded to token bounds
    lost: int = 0  # spans that cover only whitespace tokens
    by_label: Counter = field(default_factory=Counter)


def doc_words(doc) -> list[int]:
    """Indices of the tokens the entity model sees: everything but whitespace tokens."""
    return [token.i for token in doc if not token.is_space]


def bio_tags(doc, entities: list, ignore: list = (), stats: AlignmentStats | None = None) -> list[str]:
    """BIO tag per non-space token; tokens of `ignore` spans get '-' (masked from the loss).

    Edges that fall inside a token expand to the token's bounds and are counted, never dropped.
    """
    stats = stats if stats is not None else AlignmentStats()
    tags = {token.i: "O" for token in doc if not token.is_space}
    for span_def, is_ignore in [(e, False) for e in entities] + [(s, True) for s in ignore]:
        start, end = _get(span_def, "start"), _get(span_def, "end")
        span = doc.char_span(start, end, alignment_mode="strict")
        if span is None:
            span = doc.char_span(start, end, alignment_mode="expand")
            if not is_ignore:
                stats.misaligned += 1
        if not is_ignore:
            stats.spans += 1
        indices = [t.i for t in span if not t.is_space] if span is not None else []
        if not indices:
            if not is_ignore:
                stats.lost += 1
            continue
        if is_ignore:
            for i in indices:
                if tags[i] == "O":
                    tags[i] = "-"
            continue
        label = _get(span_def, "label")
        stats.by_label[label] += 1
        for position, i in enumerate(indices):
            tags[i] = ("B-" if position == 0 else "I-") + label
    return [tags[i] for i in doc_words(doc)]


def _get(obj, name):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def align_labels(word_ids: Sequence[int | None], word_labels: Sequence[int], core: range | None = None) -> list[int]:
    """First subword of a word takes its label; other subwords, special tokens and context words get -100."""
    labels, previous = [], None
    for word_id in word_ids:
        if word_id is None or word_id == previous or (core is not None and word_id not in core):
            labels.append(-100)
        else:
            labels.append(word_labels[word_id])
        previous = word_id
    return labels


def bio_to_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """BIO over words -> (start, end, label); a stray I- opens a new entity (seqeval's lenient reading)."""
    spans, start, label = [], None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, name = tag.partition("-")
        if start is not None and (prefix in ("O", "B") or name != label):
            spans.append((start, i, label))
            start, label = None, None
        if prefix in ("B", "I") and start is None:
            start, label = i, name
    return spans

