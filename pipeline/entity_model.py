"""The entity model: a transformers token classifier over Kiwi tokens, as a spaCy component.

Words are the Doc's non-space tokens. Articles are cut into windows that pack whole Kiwi
sentences up to `max_subwords`; a sentence longer than that is split into cores with
`context_subwords` of context on each side. Each word is predicted exactly once (in its core),
so nothing is truncated and nothing is predicted twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.annotation_io import doc_words


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


class EntityRecognizer:
    """spaCy component: sets doc.ents from a token-classification model. No I/O in __call__."""

    def __init__(self, nlp: Language, name: str, model_path: str | None, batch_size: int,
                 max_subwords: int, context_subwords: int):
        self.name = name
        self.batch_size = batch_size
        self.max_subwords = max_subwords
        self.context_subwords = context_subwords
        self.model = None
        self.tokenizer = None
        if model_path:
            self.load(model_path)

    # -- weights -------------------------------------------------------------------------
    def load(self, path: str | Path) -> "EntityRecognizer":
        """Load a local model directory, or a hub id when online. Errors name the missing file."""
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        local = Path(path)
        if local.exists():
            for required in ("config.json",):
                if not (local / required).is_file():
                    raise FileNotFoundError(f"model directory {local} lacks {required}")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path))
            self.model = AutoModelForTokenClassification.from_pretrained(str(path))
        except (OSError, ValueError) as error:
            raise RuntimeError(f"cannot load entity model from {path}: {error}") from error
        self.model.eval()
        return self

    def set_model(self, model, tokenizer) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.model.eval()

    @property
    def labels(self) -> list[str]:
        return [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]

    def to_disk(self, path, exclude=tuple()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)

    def from_disk(self, path, exclude=tuple()) -> "EntityRecognizer":
        return self.load(path)

    # -- inference -----------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None):
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= (batch_size or self.batch_size):
                yield from self._predict_docs(batch)
                batch = []
        if batch:
            yield from self._predict_docs(batch)

    def _predict_docs(self, docs: list[Doc]) -> list[Doc]:
        if self.model is None:
            raise RuntimeError("kfact_ner has no model: set components.kfact_ner.model_path or call load()")
        jobs = []  # (doc index, window, words)
        per_doc = []
        for d, doc in enumerate(docs):
            token_ids = doc_words(doc)
            words = [doc[i].text for i in token_ids]
            counts = subword_counts(self.tokenizer, words)
            sentences = sentence_word_ranges(doc, token_ids)
            for window in plan_windows(sentences, counts, self.max_subwords, self.context_subwords):
                jobs.append((d, window, words[window.start:window.end]))
            per_doc.append((token_ids, np.zeros((len(words), len(self.labels)), dtype=np.float32)))
        for i in range(0, len(jobs), self.batch_size):
            chunk = jobs[i:i + self.batch_size]
            probs = self._predict_windows([words for _, _, words in chunk])
            for (d, window, _), (word_ids, window_probs) in zip(chunk, probs):
                target = per_doc[d][1]
                seen = set()
                for position, word_id in enumerate(word_ids):
                    if word_id is None or word_id in seen:
                        continue
                    seen.add(word_id)
                    absolute = window.start + word_id
                    if window.core_start <= absolute < window.core_end:
                        target[absolute] = window_probs[position]
        for doc, (token_ids, probs) in zip(docs, per_doc):
            self._set_entities(doc, token_ids, probs)
        return docs

    def _predict_windows(self, batch_words: list[list[str]]):
        import torch

        encoding = self.tokenizer(batch_words, is_split_into_words=True, padding=True,
                                  truncation=True, max_length=self.max_subwords + 2, return_tensors="pt")
        with torch.inference_mode():
            logits = self.model(input_ids=encoding["input_ids"], attention_mask=encoding["attention_mask"]).logits
        probs = torch.softmax(logits, dim=-1).numpy()
        return [(encoding.word_ids(b), probs[b]) for b in range(len(batch_words))]

    def _set_entities(self, doc: Doc, token_ids: list[int], probs: np.ndarray) -> None:
        labels = self.labels
        tags = [labels[int(row.argmax())] if row.any() else "O" for row in probs]
        spans = []
        for start, end, label in bio_to_spans(tags):
            span = Span(doc, token_ids[start], token_ids[end - 1] + 1, label=label)
            span._.ner_score = float(probs[start:end].max(axis=1).mean())
            spans.append(span)
        doc.ents = filter_spans(spans)


@Language.factory(
    "kfact_ner",
    assigns=["doc.ents", "span._.ner_score"],
    default_config={"model_path": None, "batch_size": 16, "max_subwords": 128, "context_subwords": 16},
)
def make_entity_recognizer(nlp: Language, name: str, model_path: str | None, batch_size: int,
                           max_subwords: int, context_subwords: int) -> EntityRecognizer:
    return EntityRecognizer(nlp, name, model_path, batch_size, max_subwords, context_subwords)
