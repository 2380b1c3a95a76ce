"""Kiwi morphemes as spaCy tokens, losslessly.

spaCy's own `ko` tokenizer needs a system mecab; this one replaces it through the registry
(`kfact.KiwiTokenizer.v1`). Kiwi morphemes that share surface characters (그쳤다 -> 그치/VV + 었/EP)
are merged into one token, and every character Kiwi skips becomes a token or trailing space of
its own, so `doc.text == text` for any input string.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab

WHITESPACE_TAG = "_SP"
GAP_TAG = "_GAP"  # characters Kiwi produced no morpheme for


@functools.lru_cache(maxsize=4)
def get_kiwi(model_type: str = "none"):
    """One Kiwi per process and option set: loading costs ~1.5 s and ~100 MB.

    Parallelism comes from worker processes, so Kiwi's own thread pool is not used.
    """
    from kiwipiepy import Kiwi

    kwargs = {}
    if model_type != "none":
        kwargs["model_type"] = model_type
    return Kiwi(**kwargs)


@dataclass(frozen=True)
class Morpheme:
    form: str
    tag: str
    start: int
    end: int


@dataclass
class Piece:
    """A token under construction: a character range and the morphemes inside it."""

    start: int
    end: int
    morphemes: list[Morpheme]
    sent_start: bool = False


# A line that ends a sentence (…했다. / …임), and a line that opens a new item (□, ㅇ, -, *, ①, 1., <, #).
_LINE_ENDS_SENTENCE = re.compile(r"(?:다|요|음|함|됨|임)\s*[.!?]?\s*[\"'”’)\]]*\s*$|[.!?。:]\s*[\"'”’)\]]*\s*$")
_LINE_IS_BRACKETED = re.compile(r"^\s*[<(\[【〈《].*[>)\]】〉》]\s*$")  # "< 상승 품목군 >", a caption "(… 사진)"
_LINE_OPENS_ITEM = re.compile(r"^\s*(?:[□■○●◦ㅇ◇◆▷▶►※*<#\-–—·•]|[①-⑳]|\(?\d{1,2}[.)]\s|$)")


def _breaks(text: str) -> list[int]:
    """Where a line break ends a sentence: at a blank line, after the first line (a headline), after a line
    that ends one or is all in brackets, or before a line that opens an item. Any other line break is a hard
    wrap (PDF-extracted releases break "750만\n건" mid-phrase), left to Kiwi's splitter. Kiwi alone ran one
    release's blank-line paragraphs into an 835-char sentence."""
    cuts = []
    lines = text.split("\n")
    seen_text = False  # a non-blank line before this one (without one, this line is the headline)
    at = 0
    for line, following in zip(lines, lines[1:]):
        at += len(line) + 1
        if not seen_text or not line.strip() or not following.strip() or _LINE_ENDS_SENTENCE.search(line) \
                or _LINE_IS_BRACKETED.match(line) or _LINE_OPENS_ITEM.match(following):
            cuts.append(at)
        seen_text = seen_text or bool(line.strip())
    return cuts


def _segments(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Cut text at the line breaks that end a sentence (_breaks), and pieces longer than max_chars at
    newlines, then spaces. Kiwi's cost grows with segment length; bounding it keeps memory flat on 5 MB articles."""
    bounds: list[tuple[int, int]] = []
    cuts = [*_breaks(text), len(text)]
    start = 0
    for piece_end in cuts:
        while start < piece_end:
            end = min(start + max_chars, piece_end)
            if end < piece_end:
                cut = text.rfind("\n", start + 1, end)
                if cut == -1:
                    cut = text.rfind(" ", start + 1, end)
                if cut != -1:
                    end = cut + 1
            bounds.append((start, end))
            start = end
    return bounds


def kiwi_pieces(text: str, kiwi, max_chars: int = 4000) -> list[Piece]:
    """Kiwi morphemes merged into non-overlapping pieces, in text order, with sentence starts."""
    pieces: list[Piece] = []
    segments = [(a, b) for a, b in _segments(text, max_chars) if not text[a:b].isspace()]
    results = kiwi.tokenize([text[a:b] for a, b in segments], split_sents=True) if segments else []
    for (offset, seg_end), sentences in zip(segments, results):
        for sentence in sentences:
            first = True
            for tok in sentence:
                start = max(offset + tok.start, offset)
                end = min(offset + tok.start + tok.len, seg_end)
                if end <= start:
                    continue
                morph = Morpheme(tok.form, tok.tag, start, end)
                if pieces and start < pieces[-1].end:
                    last = pieces[-1]
                    last.end = max(last.end, end)
                    last.morphemes.append(morph)
                else:
                    pieces.append(Piece(start, end, [morph], sent_start=first))
                first = False
    return pieces


def nfc_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """NFC of text, with each NFC char's start and end in the original text.

    Kiwi reads decomposed Hangul (NFD jamo, as macOS writes file names and some copy-paste does) as
    unknown nouns; it gets the NFC text and its offsets are mapped back, so tokens still slice the original.
    A cluster is a starter plus the characters that may compose with it (combining marks, medial and
    final jamo); its NFC char maps to the whole cluster, or, where a cluster composes to several chars,
    each maps to the shortest run composing to it.
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(text[j]) or "\u1160" <= text[j] <= "\u11ff"):
            j += 1
        composed = unicodedata.normalize("NFC", text[i:j])
        out.append(composed)
        if len(composed) == 1:
            starts.append(i)
            ends.append(j)
        else:  # "한" + a stray vowel jamo: each NFC char gets the shortest original run that composes to it
            pos, nfc = i, functools.partial(unicodedata.normalize, "NFC")
            for k, char in enumerate(composed):
                q = next((q for q in range(pos + 1, j) if nfc(text[pos:q]) == char and nfc(text[pos:q + 1]) != char), j)
                if k == len(composed) - 1 or pos >= j:
                    q = j
                starts.append(pos if pos < j else i)  # never an empty range: fall back to the whole cluster
                ends.append(q)
                pos = q
        i = j
    return "".join(out), starts, ends


def _map_pieces(pieces: list[Piece], starts: list[int], ends: list[int]) -> list[Piece]:
    """Pieces over the NFC text -> pieces over the original; pieces that meet inside one cluster merge."""
    mapped: list[Piece] = []
    for piece in pieces:
        start, end = starts[piece.start], ends[piece.end - 1]
        if mapped and start < mapped[-1].end:
            mapped[-1].end = max(mapped[-1].end, end)
            mapped[-1].morphemes.extend(piece.morphemes)
        else:
            mapped.append(Piece(start, end, piece.morphemes, piece.sent_start))
    return mapped


_WS_RUN = re.compile(r"\s+|\S+")


class KiwiTokenizer:
    """Callable tokenizer: str -> Doc with Kiwi tags on `token.tag_` and forms on `token._.kiwi_forms`."""

    def __init__(self, vocab: Vocab, model_type: str = "none", max_segment_chars: int = 4000):
        self.vocab = vocab
        self.model_type = model_type
        self.max_segment_chars = max_segment_chars

    @property
    def kiwi(self):
        return get_kiwi(self.model_type)

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        tags: list[str] = []
        forms: list[str] = []
        sent_starts: list[bool] = []

        def add_gap(gap: str) -> None:
            for run in _WS_RUN.findall(gap):
                if run == " " and words and not spaces[-1] and not run_is_token(words[-1]):
                    spaces[-1] = True
                    continue
                if run.isspace():
                    if words and not spaces[-1] and run.startswith(" ") and not run_is_token(words[-1]):
                        spaces[-1] = True
                        run = run[1:]
                    words.append(run)
                    spaces.append(False)
                    tags.append(WHITESPACE_TAG)
                    forms.append(run)
                    sent_starts.append(False)
                else:
                    words.append(run)
                    spaces.append(False)
                    tags.append(GAP_TAG)
                    forms.append(run)
                    sent_starts.append(False)

        if text and not unicodedata.is_normalized("NFC", text):
            nfc, starts, ends = nfc_with_offsets(text)
            pieces = _map_pieces(kiwi_pieces(nfc, self.kiwi, self.max_segment_chars), starts, ends)
        else:
            pieces = kiwi_pieces(text, self.kiwi, self.max_segment_chars) if text else []
        cursor = 0
        for piece in pieces:
            if piece.start > cursor:
                add_gap(text[cursor:piece.start])
            words.append(text[piece.start:piece.end])
            spaces.append(False)
            tags.append("+".join(m.tag for m in piece.morphemes))
            forms.append("+".join(m.form for m in piece.morphemes))
            sent_starts.append(piece.sent_start)
            cursor = piece.end
        if cursor < len(text):
            add_gap(text[cursor:])
        if sent_starts:
            sent_starts[0] = True
        doc = Doc(self.vocab, words=words, spaces=spaces, tags=tags, sent_starts=sent_starts)
        for token, form in zip(doc, forms):
            token._.kiwi_forms = form
        return doc

    def pipe(self, texts, batch_size: int = 64):
        for text in texts:
            yield self(text)

    def __reduce__(self):
        return (KiwiTokenizer, (self.vocab, self.model_type, self.max_segment_chars))

    # spaCy serializes the tokenizer with the pipeline; the settings live in config.cfg.
    def to_bytes(self, **kwargs) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs) -> "KiwiTokenizer":
        return self

    def to_disk(self, path, **kwargs) -> None:
        return None

    def from_disk(self, path, **kwargs) -> "KiwiTokenizer":
        return self


def run_is_token(word: str) -> bool:
    """A whitespace token cannot take a trailing space in spaCy; it must absorb it instead."""
    return word.isspace()


@registry.tokenizers("kfact.KiwiTokenizer.v1")
def create_kiwi_tokenizer(model_type: str = "none", max_segment_chars: int = 4000):
    def tokenizer_factory(nlp):
        return KiwiTokenizer(nlp.vocab, model_type=model_type, max_segment_chars=max_segment_chars)

    return tokenizer_factory
