"""kfact_ner: a transformers token classifier over Kiwi tokens (torch or ONNX Runtime), as a spaCy component.

Words are the Doc's non-space tokens, read in windows of whole sentences (pipeline/ner/windows.py);
each word takes the label of its first subword. The raw BIO spans go on `doc.ents` with `span._.ner_score`;
kfact_value_repair, next in configs/pipeline.cfg, mends numbers the model split.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.ner.alignment import bio_to_spans, doc_words
from pipeline.ner.backends import BACKENDS, TorchBackend, load_backend, softmax
from pipeline.ner.windows import model_word, noise_words, plan_windows, sentence_word_ranges, subword_counts


class EntityRecognizer:
    """spaCy component: sets doc.ents from a token-classification model. No I/O in __call__."""

    def __init__(self, nlp: Language, name: str, model_path: str | None, batch_size: int,
                 max_subwords: int, context_subwords: int, backend: str = "torch", onnx_path: str | None = None,
                 sort_windows: bool = True):
        if backend not in BACKENDS:
            raise ValueError(f"kfact_ner backend must be one of {BACKENDS}, not {backend!r}")
        self.name = name
        self.batch_size = batch_size
        self.max_subwords = max_subwords
        self.context_subwords = context_subwords
        self.backend_name = backend
        self.onnx_path = onnx_path
        self.backend = None  # TorchBackend | OnnxBackend once loaded
        # Windows of similar length share a forward pass: padding is wasted work (same outputs, see tests).
        self.sort_windows = sort_windows
        if model_path:
            self.load(model_path)

    # -- weights -------------------------------------------------------------------------
    def load(self, path: str | Path) -> "EntityRecognizer":
        """Load a local model directory, or a hub id when online. Errors name the missing file."""
        self.backend = load_backend(self.backend_name, path, self.onnx_path)
        self._fit_windows()
        return self

    def set_model(self, model, tokenizer) -> None:
        """Use an in-memory transformers model (training and evaluation of a model being built)."""
        self.backend_name, self.backend = "torch", TorchBackend(model, tokenizer)
        self._fit_windows()

    @property
    def tokenizer(self):
        return self.backend.tokenizer

    @property
    def config(self):
        return self.backend.config

    def _fit_windows(self) -> None:
        """Windows (plus special tokens) must fit the model's position table, whatever the config says."""
        limit = getattr(self.config, "max_position_embeddings", None)
        if limit:
            self.max_subwords = min(self.max_subwords, limit - 2)
            self.context_subwords = min(self.context_subwords, self.max_subwords // 4)

    @property
    def labels(self) -> list[str]:
        return [self.config.id2label[i] for i in range(self.config.num_labels)]

    def to_disk(self, path, exclude=tuple()) -> None:
        if not isinstance(self.backend, TorchBackend):
            raise RuntimeError("kfact_ner.to_disk needs the torch backend (an ONNX graph is exported, not saved)")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.backend.model.save_pretrained(path)
        self.backend.tokenizer.save_pretrained(path)

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
        if self.backend is None:
            raise RuntimeError("kfact_ner has no model: set components.kfact_ner.model_path or call load()")
        jobs = []  # (doc index, window, words)
        per_doc = []
        for d, doc in enumerate(docs):
            token_ids = doc_words(doc)
            words = [model_word(doc[i].text) for i in token_ids]
            counts = subword_counts(self.tokenizer, words)
            sentences = sentence_word_ranges(doc, token_ids)
            noise = noise_words(doc, token_ids, sentences)  # words of sentences wholly inside crawl noise
            for window in plan_windows(sentences, counts, self.max_subwords, self.context_subwords):
                if not all(noise[window.core_start:window.core_end]):  # a window of pure noise is not run
                    jobs.append((d, window, words[window.start:window.end]))
            per_doc.append((token_ids, np.zeros((len(words), len(self.labels)), dtype=np.float32)))
        if self.sort_windows:
            jobs.sort(key=lambda job: len(job[2]))  # stable; each window writes only its own core rows
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
        encoding = self.tokenizer(batch_words, is_split_into_words=True, padding=True,
                                  truncation=True, max_length=self.max_subwords + 2, return_tensors="np")
        ids = encoding["input_ids"].astype(np.int64)
        mask = encoding["attention_mask"].astype(np.int64)
        probs = softmax(self.forward(ids, mask))
        return [(encoding.word_ids(b), probs[b]) for b in range(len(batch_words))]

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Logits [batch, sequence, labels] from whichever backend is loaded."""
        return self.backend.forward(input_ids, attention_mask)

    def _set_entities(self, doc: Doc, token_ids: list[int], probs: np.ndarray) -> None:
        labels = self.labels
        tags = [labels[int(row.argmax())] if row.any() else "O" for row in probs]
        spans = []
        for start, end, label in bio_to_spans(tags):
            span = Span(doc, token_ids[start], token_ids[end - 1] + 1, label=label)
            span._.ner_score = float(probs[start:end].max(axis=1).mean())
            spans.append(span)
        doc.ents = spans  # BIO spans never overlap


@Language.factory(
    "kfact_ner",
    assigns=["doc.ents", "span._.ner_score"],
    default_config={"model_path": None, "batch_size": 16, "max_subwords": 128, "context_subwords": 16,
                    "backend": "torch", "onnx_path": None, "sort_windows": True},
)
def make_entity_recognizer(nlp: Language, name: str, model_path: str | None, batch_size: int,
                           max_subwords: int, context_subwords: int, backend: str, onnx_path: str | None,
                           sort_windows: bool) -> EntityRecognizer:
    return EntityRecognizer(nlp, name, model_path, batch_size, max_subwords, context_subwords, backend, onnx_path,
                            sort_windows)
