"""spaCy components for crawl noise (the detection itself is pure: pipeline/cleaning.py).

`kfact_clean` runs first and marks noise on `doc._.boilerplate` (char ranges) and `doc._.noise`
(ranges with reasons); the text is never changed, so output offsets stay valid. The entity model
skips windows made only of sentences wholly inside noise (`noise_words`); `kfact_clean_ents`, after the gazetteer and the
normalizers, drops whatever entity still overlaps noise; the linker never makes a claim from a
value inside noise. Thresholds come from `[components.kfact_clean]` in configs/pipeline.cfg.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Sequence

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.cleaning import NoiseConfig, find_noise, in_noise


class NoiseMarker:
    def __init__(self, name: str, config: NoiseConfig):
        self.name = name
        self.config = config

    def __call__(self, doc: Doc) -> Doc:
        noise = find_noise(doc.text, self.config)
        doc._.noise = noise
        doc._.boilerplate = [(n.start, n.end) for n in noise]
        return doc


class NoiseEntityFilter:
    """Drops entities overlapping noise (from any earlier component); ticker values never reach the linker."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        ranges = doc._.boilerplate
        if ranges:
            doc.ents = [ent for ent in doc.ents if not in_noise(ranges, ent.start_char, ent.end_char)]
        return doc


def noise_words(doc: Doc, token_ids: Sequence[int], sentences: Sequence[tuple[int, int]]) -> list[bool]:
    """Per word: does it belong to a sentence that lies wholly inside a noise range?

    The entity model plans its windows as without noise (the small model is sensitive to how
    sentences are packed, so the article's body gets the same windows either way) and skips the
    windows whose core is all noise: seed 000's repeated half, appended ticker tables.
    """
    mask = [False] * len(token_ids)
    ranges = doc._.boilerplate
    if not ranges:
        return mask
    for s, e in sentences:
        first, last = doc[token_ids[s]], doc[token_ids[e - 1]]
        start, end = first.idx, last.idx + len(last.text)
        if any(a <= start and end <= b for a, b in ranges):
            mask[s:e] = [True] * (e - s)
    return mask


_DEFAULTS = {f.name: f.default for f in fields(NoiseConfig)}


@Language.factory("kfact_clean", assigns=["doc._.boilerplate", "doc._.noise"], default_config=_DEFAULTS)
def make_noise_marker(nlp: Language, name: str, min_repeat_chars: int, min_segment_chars: int, near_duplicate: float,
                      max_line_chars: int, min_run_lines: int, short_line_chars: int, min_numeric_share: float,
                      max_scan_chars: int) -> NoiseMarker:
    return NoiseMarker(name, NoiseConfig(
        min_repeat_chars=min_repeat_chars, min_segment_chars=min_segment_chars, near_duplicate=near_duplicate,
        max_line_chars=max_line_chars, min_run_lines=min_run_lines, short_line_chars=short_line_chars,
        min_numeric_share=min_numeric_share, max_scan_chars=max_scan_chars))


@Language.factory("kfact_clean_ents", requires=["doc.ents", "doc._.boilerplate"], assigns=["doc.ents"])
def make_noise_entity_filter(nlp: Language, name: str) -> NoiseEntityFilter:
    return NoiseEntityFilter(name)
