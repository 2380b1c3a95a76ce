"""The entity model: a transformers token classifier over Kiwi tokens, as a spaCy component.

Words are the Doc's non-space tokens. Articles are cut into windows that pack whole Kiwi
sentences up to `max_subwords`; a sentence longer than that is split into cores with
`context_subwords` of context on each side. Each word is predicted exactly once (in its core),
so nothing is truncated and nothing is predicted twice.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.annotation_io import VALUE_LABELS, doc_words
from pipeline.noise_marker import noise_words
from pipeline.normalize.numbers import BIG_UNITS, SMALL_UNITS
from pipeline.normalize.quantity import COUNTERS


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


MAGNITUDES = {*SMALL_UNITS, *BIG_UNITS, "천만", "백만"}  # Kiwi keeps 천만/백만 as one token
NUMBER_TAIL = re.compile(rf"(\d|[{''.join([*SMALL_UNITS, *BIG_UNITS])}])$")
NUMBER_HEAD = re.compile(r"^\d")
CURRENCY_WORDS = {"달러", "원", "유로", "위안", "엔", "파운드", "불", "루블", "$", "€", "￥", "₩"}
PERCENT_SIGNS = {"%", "％", "퍼센트", "%포인트", "%p"}
UNIT_TOKENS = MAGNITUDES | CURRENCY_WORDS | PERCENT_SIGNS
RANGE_MARKS = {"~", "∼", "〜", "-", "–"}
# Counters that make a bare number a QUANTITY ("40" + "개", "11" + "위"); Kiwi splits them off.
COUNTER_WORDS = {*COUNTERS, "위", "등", "배", "번째", "째", "번"}
BARE_NUMBER = re.compile(r"^\d[\d,]*(\.\d+)?([~∼〜\-–]\d[\d,]*(\.\d+)?)?$")  # "40", "3-4"
MINUS_SIGNS = {"-", "−", "–"}
# A value span needs a digit or a numeral: "남겨", "만" alone are the model's slips.
NUMERAL = re.compile(r"[0-9０-９일이삼사오육칠팔구십백천만억조경한두세네하나둘셋넷다섯여섯일곱여덟아홉열스무스물서른마흔쉰수몇]")
LONE_DETERMINERS = {"한", "두", "세", "네"}  # numerals that need a counter after them to count anything


def repair_value_spans(doc: Doc, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Token spans (start, end, label) -> the same with split numbers joined and units reattached.

    The model sometimes cuts a compound number at its inner space or magnitude ("13억" + "3000만 달러"),
    across a range ("3" + "4조 원"), or leaves the unit outside ("1099" + "억 달러", "63" + "%").
    These are spelling facts, not judgements; where the unit is a currency or a percent sign, the
    label follows it.
    """
    repaired: list[tuple[int, int, str]] = []
    for start, end, label in sorted(spans):
        if repaired:
            p_start, p_end, p_label = repaired[-1]
            gap = [t for t in doc[p_end:start] if not t.is_space]
            joinable_gap = not gap or (len(gap) == 1 and gap[0].text in RANGE_MARKS)
            if (p_label in VALUE_LABELS and label in VALUE_LABELS and joinable_gap
                    and NUMBER_TAIL.search(doc[p_start:p_end].text)
                    and (NUMBER_HEAD.match(doc[start].text) or doc[start].text in UNIT_TOKENS)):
                repaired[-1] = (p_start, end, label if NUMBER_HEAD.match(doc[start].text) else p_label)
                continue
        repaired.append((start, end, label))
    taken = {i for start, end, _ in repaired for i in range(start, end)}
    result = []
    for start, end, label in repaired:
        if label in VALUE_LABELS:
            while end < len(doc) and end not in taken:
                token, previous = doc[end], doc[end - 1]
                glued = not previous.whitespace_
                if token.text in MAGNITUDES and glued and NUMBER_TAIL.search(previous.text):
                    end += 1
                elif token.text in CURRENCY_WORDS | PERCENT_SIGNS and (glued or previous.text in MAGNITUDES):
                    end += 1
                else:
                    break
            surface = doc[start:end].text
            if any(word in surface for word in PERCENT_SIGNS):
                label = "PERCENT"
            elif any(token.text in CURRENCY_WORDS for token in doc[start:end]):
                label = "MONEY"
        result.append((start, end, label))
    return _attach_counters_and_signs(doc, result)


def _attach_counters_and_signs(doc: Doc, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A bare number takes its glued counter ("40"+"개" -> QUANTITY "40개", also when the number was
    tagged DATE: "9"+"위"), a glued leading minus joins the number ("-0.36"), and a value span with no
    number in it ("만", "개") is dropped: it cannot be normalized and only misleads the linker."""
    spans = sorted(spans)
    result: list[tuple[int, int, str]] = []
    skip_until = -1
    for i, (start, end, label) in enumerate(spans):
        if start < skip_until:
            if end <= skip_until:
                continue
            start = skip_until
        is_number = (label in VALUE_LABELS or label == "DATE") and BARE_NUMBER.match(doc[start:end].text)
        # "2" + "분기", "1" + "월": a bare number glued to the DATE span after it is part of that date.
        following = spans[i + 1] if i + 1 < len(spans) else None
        if is_number and following and following[2] == "DATE" and following[0] == end \
                and not doc[end - 1].whitespace_:
            spans[i + 1] = (start, following[1], "DATE")
            continue
        if is_number and end < len(doc) and not doc[end - 1].whitespace_:
            counter_end = end
            while counter_end < len(doc) and counter_end - end < 2 and \
                    "".join(t.text for t in doc[end:counter_end + 1]) in COUNTER_WORDS:
                counter_end += 1
            # "2"+"번"+"째": take the longest counter that is a word of its own.
            while counter_end > end and "".join(t.text for t in doc[end:counter_end]) not in COUNTER_WORDS:
                counter_end -= 1
            if counter_end > end:
                end, label, skip_until = counter_end, "QUANTITY", counter_end
        if label in VALUE_LABELS and start >= 1 and doc[start - 1].text in MINUS_SIGNS \
                and not doc[start - 1].whitespace_ and (start == 1 or (doc[start - 2].whitespace_
                                                                   and not NUMBER_TAIL.search(doc[start - 2].text))) \
                and not (result and result[-1][1] > start - 1):
            start -= 1
        surface = "".join(t.text for t in doc[start:end] if not t.is_space)
        if label in VALUE_LABELS and not any(ch.isdigit() for ch in surface) and (
                surface in UNIT_TOKENS | COUNTER_WORDS | LONE_DETERMINERS or not NUMERAL.search(surface)):
            continue
        result.append((start, end, label))
    return result


class EntityRecognizer:
    """spaCy component: sets doc.ents from a token-classification model. No I/O in __call__."""

    def __init__(self, nlp: Language, name: str, model_path: str | None, batch_size: int,
                 max_subwords: int, context_subwords: int, repair_numbers: bool = True,
                 backend: str = "torch", onnx_path: str | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"kfact_ner backend must be one of {BACKENDS}, not {backend!r}")
        self.name = name
        self.repair_numbers = repair_numbers
        self.batch_size = batch_size
        self.max_subwords = max_subwords
        self.context_subwords = context_subwords
        self.backend = backend
        self.onnx_path = onnx_path
        self.model = None  # torch module (backend "torch")
        self.session = None  # ONNX Runtime session (backend "onnx")
        self.config = None  # the transformers config: labels and position limit, for either backend
        self.tokenizer = None
        # Windows of similar length share a forward pass: padding is wasted work (same outputs, see tests).
        self.sort_windows = True
        if model_path:
            self.load(model_path)

    # -- weights -------------------------------------------------------------------------
    def load(self, path: str | Path) -> "EntityRecognizer":
        """Load a local model directory, or a hub id when online. Errors name the missing file.

        The onnx backend reads config and tokenizer from the directory and the graph from
        `onnx_path` (default `<path>/model.onnx`; a bare file name is looked up in the directory).
        """
        from transformers import AutoConfig, AutoTokenizer

        local = Path(path)
        if local.exists():
            for required in ("config.json",):
                if not (local / required).is_file():
                    raise FileNotFoundError(f"model directory {local} lacks {required}")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path))
            if self.backend == "torch":
                from transformers import AutoModelForTokenClassification

                self.model = AutoModelForTokenClassification.from_pretrained(str(path)).eval()
                self.config = self.model.config
            else:
                self.config = AutoConfig.from_pretrained(str(path))
        except (OSError, ValueError) as error:
            raise RuntimeError(f"cannot load entity model from {path}: {error}") from error
        if self.backend == "onnx":
            self.session = self._onnx_session(resolve_onnx_path(local, self.onnx_path))
        self._fit_windows()
        return self

    @staticmethod
    def _onnx_session(graph: Path):
        from pipeline.onnx_export import make_session

        if not graph.is_file():
            raise FileNotFoundError(f"no ONNX graph at {graph}: run `kfact export-onnx` (see README) "
                                    f"or set components.kfact_ner.onnx_path")
        # One intra-op thread per torch thread: workers run single-threaded, the main process uses the cores.
        return make_session(graph, threads=_torch_threads())

    def set_model(self, model, tokenizer) -> None:
        self.model, self.tokenizer, self.config = model, tokenizer, model.config
        self.backend, self.session = "torch", None
        self._fit_windows()
        self.model.eval()

    def _fit_windows(self) -> None:
        """Windows (plus [CLS]/[SEP]) must fit the model's position table, whatever the config says."""
        limit = getattr(self.config, "max_position_embeddings", None)
        if limit:
            self.max_subwords = min(self.max_subwords, limit - 2)
            self.context_subwords = min(self.context_subwords, self.max_subwords // 4)

    @property
    def labels(self) -> list[str]:
        return [self.config.id2label[i] for i in range(self.config.num_labels)]

    def to_disk(self, path, exclude=tuple()) -> None:
        if self.model is None:
            raise RuntimeError("kfact_ner.to_disk needs the torch backend (an ONNX graph is exported, not saved)")
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
        if self.model is None and self.session is None:
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
        if self.session is not None:
            return self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": attention_mask})[0]
        import torch

        with torch.inference_mode():
            return self.model(input_ids=torch.from_numpy(input_ids),
                              attention_mask=torch.from_numpy(attention_mask)).logits.numpy()

    def _set_entities(self, doc: Doc, token_ids: list[int], probs: np.ndarray) -> None:
        labels = self.labels
        tags = [labels[int(row.argmax())] if row.any() else "O" for row in probs]
        scores = {}
        token_spans = []
        for start, end, label in bio_to_spans(tags):
            first, last = token_ids[start], token_ids[end - 1] + 1
            token_spans.append((first, last, label))
            scores[first] = float(probs[start:end].max(axis=1).mean())
        if self.repair_numbers:
            token_spans = repair_value_spans(doc, token_spans)
        spans = []
        for first, last, label in token_spans:
            span = Span(doc, first, last, label=label)
            span._.ner_score = scores.get(first)
            spans.append(span)
        doc.ents = filter_spans(spans)


@Language.factory(
    "kfact_ner",
    assigns=["doc.ents", "span._.ner_score"],
    default_config={"model_path": None, "batch_size": 16, "max_subwords": 128, "context_subwords": 16,
                    "repair_numbers": True, "backend": "torch", "onnx_path": None},
)
def make_entity_recognizer(nlp: Language, name: str, model_path: str | None, batch_size: int,
                           max_subwords: int, context_subwords: int, repair_numbers: bool,
                           backend: str, onnx_path: str | None) -> EntityRecognizer:
    return EntityRecognizer(nlp, name, model_path, batch_size, max_subwords, context_subwords, repair_numbers,
                            backend, onnx_path)


BACKENDS = ("torch", "onnx")


def resolve_onnx_path(model_dir: Path, onnx_path: str | Path | None) -> Path:
    """None -> <model_dir>/model.onnx; a bare file name ("model.int8.onnx") -> inside model_dir; else as given."""
    from pipeline.onnx_export import FP32_NAME

    if onnx_path is None or str(onnx_path) == "":
        return model_dir / FP32_NAME
    candidate = Path(onnx_path)
    if len(candidate.parts) == 1 and (model_dir / candidate).is_file():
        return model_dir / candidate
    return candidate


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _torch_threads() -> int:
    """The process's torch thread setting (workers set 1), without importing torch just to ask."""
    import os
    import sys

    if "torch" in sys.modules:
        return sys.modules["torch"].get_num_threads()
    return os.cpu_count() or 1
