"""KMOU NER corpus -> annotation records with character offsets and our labels.

The corpus gives each sentence three ways; we use the inline markup line (`<미국:LOC>`) because it
yields character offsets into the raw sentence, which we then re-tokenize with Kiwi so that training
and inference see the same tokens. Label mapping lives in configs (ner_*.toml [kmou] table).
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

MARKUP = re.compile(r"<([^<>]+?):([A-Z]{3})>")


@dataclass
class KmouStats:
    sentences: int = 0
    markup_mismatch: int = 0
    source_labels: Counter = field(default_factory=Counter)
    mapped_labels: Counter = field(default_factory=Counter)


def parse_markup(markup: str) -> tuple[str, list[tuple[int, int, str]]]:
    """'<미국:LOC>은 1위' -> ('미국은 1위', [(0, 2, 'LOC')])."""
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    cursor = 0
    length = 0
    for match in MARKUP.finditer(markup):
        before = markup[cursor:match.start()]
        parts.append(before)
        length += len(before)
        surface = match.group(1)
        spans.append((length, length + len(surface), match.group(2)))
        parts.append(surface)
        length += len(surface)
        cursor = match.end()
    parts.append(markup[cursor:])
    return "".join(parts), spans


def iter_sentences(path: Path) -> Iterator[tuple[int, str, str]]:
    """(number, raw sentence, markup line) for each sentence block in one corpus file."""
    header: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("## "):
                header.append(line[3:].rstrip("\n"))
                if len(header) == 3:
                    number, raw, markup = header
                    header = []
                    yield (int(number) if number.strip().isdigit() else -1), raw, markup
            elif not line.strip():
                header = []


def map_label(label: str, surface: str, mapping: dict[str, str], countries: set[str]) -> str:
    """KMOU tag -> our label; 'LOC' splits by the country lexicon, '-' masks, 'O' drops."""
    target = mapping.get(label, "O")
    if target == "COUNTRY|LOCATION":
        return "COUNTRY" if surface in countries else "LOCATION"
    return target


def file_split(name: str, dev_percent: int, test_percent: int) -> str:
    """Split by file, not sentence: neighbouring sentences of one article share entities."""
    bucket = int(hashlib.sha1(name.encode()).hexdigest(), 16) % 100
    if bucket < test_percent:
        return "test"
    if bucket < test_percent + dev_percent:
        return "dev"
    return "train"


def load_kmou(
    corpus_dir: Path,
    mapping: dict[str, str],
    countries: set[str],
    dev_percent: int = 10,
    test_percent: int = 10,
    stats: KmouStats | None = None,
) -> Iterator[dict]:
    """Yield annotation records: {id, text, split, entities, ignore} (ignore = masked spans)."""
    stats = stats if stats is not None else KmouStats()
    for path in sorted(Path(corpus_dir).glob("*.txt")):
        split = file_split(path.name, dev_percent, test_percent)
        for index, (number, raw, markup) in enumerate(iter_sentences(path)):
            text, spans = parse_markup(markup)
            stats.sentences += 1
            if text != raw:
                stats.markup_mismatch += 1
            entities, ignore = [], []
            for start, end, label in spans:
                stats.source_labels[label] += 1
                target = map_label(label, text[start:end], mapping, countries)
                if target == "-":
                    ignore.append({"start": start, "end": end})
                elif target != "O":
                    stats.mapped_labels[target] += 1
                    entities.append({"start": start, "end": end, "label": target, "text": text[start:end]})
            yield {
                "id": f"kmou-{path.stem}-{index}",
                "text": text,
                "split": split,
                "source": f"kmou-ner/corpus/{path.name} #{number}",
                "entities": entities,
                "ignore": ignore,
            }
