"""spaCy components for crawl noise (the detection itself is pure: pipeline/cleaning.py).

`kfact_clean` runs first and marks noise on `doc._.noise` (sorted char ranges with reasons); the text
is never changed, so output offsets stay valid. The entity model skips windows made only of sentences
wholly inside noise (`pipeline.ner.windows.noise_words`); `kfact_clean_ents`, after the gazetteer and the
normalizers, drops whatever entity still overlaps noise; the linker never makes a claim from a
value inside noise. Thresholds come from `[components.kfact_clean]` in configs/pipeline.cfg.
"""
from __future__ import annotations

from dataclasses import fields

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.cleaning.noise import NoiseConfig, find_noise
from pipeline.extensions import doc_text
from pipeline.schema import overlaps


class NoiseMarker:
    def __init__(self, name: str, config: NoiseConfig):
        self.name = name
        self.config = config

    def __call__(self, doc: Doc) -> Doc:
        doc._.noise = find_noise(doc_text(doc), self.config)
        return doc


class NoiseEntityFilter:
    """Drops entities overlapping noise (from any earlier component); ticker values never reach the linker."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        ranges = doc._.noise
        if ranges:
            doc.ents = [ent for ent in doc.ents if not overlaps(ranges, ent.start_char, ent.end_char)]
        return doc


_DEFAULTS = {f.name: list(f.default) if isinstance(f.default, tuple) else f.default for f in fields(NoiseConfig)}


@Language.factory("kfact_clean", assigns=["doc._.noise"], default_config=_DEFAULTS)
def make_noise_marker(nlp: Language, name: str, min_repeat_chars: int, min_segment_chars: int, near_duplicate: float,
                      max_line_chars: int, min_run_lines: int, short_line_chars: int, min_numeric_share: float,
                      max_scan_chars: int, block_headings: list[str], counted_headings: list[str],
                      exact_headings: list[str]) -> NoiseMarker:
    return NoiseMarker(name, NoiseConfig(
        min_repeat_chars=min_repeat_chars, min_segment_chars=min_segment_chars, near_duplicate=near_duplicate,
        max_line_chars=max_line_chars, min_run_lines=min_run_lines, short_line_chars=short_line_chars,
        min_numeric_share=min_numeric_share, max_scan_chars=max_scan_chars, block_headings=tuple(block_headings),
        counted_headings=tuple(counted_headings), exact_headings=tuple(exact_headings)))


@Language.factory("kfact_clean_ents", requires=["doc.ents", "doc._.noise"], assigns=["doc.ents"])
def make_noise_entity_filter(nlp: Language, name: str) -> NoiseEntityFilter:
    return NoiseEntityFilter(name)
