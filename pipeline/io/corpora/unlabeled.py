"""Unlabeled Korean text from the corpora listed in configs/corpora.toml, read in place."""
from __future__ import annotations

import csv
import json
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorpusSpec:
    name: str
    path: Path
    format: str


def load_corpus_specs(config: str | Path) -> list[CorpusSpec]:
    from pipeline.paths import resolve_path

    with open(config, "rb") as handle:
        table = tomllib.load(handle)
    return [CorpusSpec(c["name"], resolve_path(c["path"]), c["format"]) for c in table.get("corpus", [])]


def _csv_column(path: Path, column: int) -> Iterator[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        next(rows, None)
        for row in rows:
            if len(row) > column and row[column].strip():
                yield row[column]


def corpus_texts(spec: CorpusSpec) -> Iterator[str]:
    """Texts (sentences or paragraphs) of one corpus; a missing corpus yields nothing, with a warning."""
    if not spec.path.exists():
        log.warning("corpus %s not found at %s: skipped", spec.name, spec.path)
        return
    fmt, path = spec.format, spec.path
    if fmt == "kmou":
        for file in sorted(path.glob("*.txt")):
            with open(file, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().split("\n")
            # Each sentence opens with "## <number>", "## <raw sentence>", "## <marked-up sentence>".
            for i, line in enumerate(lines[:-1]):
                if line.startswith("## ") and line[3:].strip().isdigit() and lines[i + 1].startswith("## "):
                    yield lines[i + 1][3:].strip()
    elif fmt == "wikinews_csv":
        for body in _csv_column(path, 3):
            yield from (p.strip() for p in body.split("\n") if p.strip())
    elif fmt in ("csv_col1", "csv_col2"):
        yield from _csv_column(path, int(fmt[-1]))
    elif fmt == "lines":
        with open(path, encoding="utf-8") as handle:
            yield from (line.strip() for line in handle if line.strip())
    elif fmt == "sci_json":
        for file in sorted(path.glob("*.json")):
            yield from json.loads(file.read_text(encoding="utf-8"))["sentences"]
    elif fmt == "jsonl_text":
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield from (p.strip() for p in json.loads(line)["text"].split("\n") if p.strip())
    elif fmt == "klue_dp":
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("## ") and "\t" in line:
                    yield line.split("\t", 1)[1].strip()
    elif fmt == "klue_pairs":
        for item in json.loads(path.read_text(encoding="utf-8")):
            for key in ("premise", "hypothesis", "sentence1", "sentence2"):
                if item.get(key):
                    yield item[key]
    else:
        raise ValueError(f"corpus {spec.name}: unknown format {fmt!r}")


def unlabeled_texts(config: str | Path) -> Iterator[tuple[str, str]]:
    """(corpus name, text) over every corpus of the config, in config order."""
    for spec in load_corpus_specs(config):
        for text in corpus_texts(spec):
            yield spec.name, text
