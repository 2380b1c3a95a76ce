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
    glob: str = "**/*"  # md_dir: which files under path
    distill: bool = False  # may the student's teacher label it (kfact distill)


def load_corpus_specs(config: str | Path) -> list[CorpusSpec]:
    from pipeline.paths import resolve_path

    with open(config, "rb") as handle:
        table = tomllib.load(handle)
    return [CorpusSpec(c["name"], resolve_path(c["path"]), c["format"], c.get("glob", "**/*"),
                       bool(c.get("distill", False)))
            for c in table.get("corpus", [])]


def _csv_column(path: Path, column: int) -> Iterator[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        next(rows, None)
        for row in rows:
            if len(row) > column and row[column].strip():
                yield row[column]


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in body.split("\n") if p.strip()]


def markdown_body(markdown: str) -> str:
    """The body of a gov-press-md release: what follows its "## 본문" heading (front matter and the
    metadata list before it are not prose)."""
    head, marker, body = markdown.partition("\n## 본문")
    return body if marker else ""


def corpus_documents(spec: CorpusSpec) -> Iterator[tuple[str, list[str]]]:
    """(document id, its texts: sentences or paragraphs) of one corpus. Where the corpus has no documents
    (one sentence a line), each text is its own document. A missing corpus yields nothing, with a warning."""
    if not spec.path.exists():
        log.warning("corpus %s not found at %s: skipped", spec.name, spec.path)
        return
    fmt, path = spec.format, spec.path
    if fmt == "kmou":
        for file in sorted(path.glob("*.txt")):
            with open(file, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().split("\n")
            # Each sentence opens with "## <number>", "## <raw sentence>", "## <marked-up sentence>".
            yield file.name, [lines[i + 1][3:].strip() for i, line in enumerate(lines[:-1])
                              if line.startswith("## ") and line[3:].strip().isdigit()
                              and lines[i + 1].startswith("## ")]
    elif fmt == "wikinews_csv":
        for row, body in enumerate(_csv_column(path, 3)):
            yield f"row{row}", _paragraphs(body)
    elif fmt in ("csv_col1", "csv_col2"):
        for row, text in enumerate(_csv_column(path, int(fmt[-1]))):
            yield f"row{row}", [text]
    elif fmt == "lines":
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield f"line{number}", [line.strip()]
    elif fmt == "sci_json":
        for file in sorted(path.glob("*.json")):
            yield file.name, list(json.loads(file.read_text(encoding="utf-8"))["sentences"])
    elif fmt == "jsonl_text":
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    item = json.loads(line)
                    yield str(item.get("id", f"line{number}")), _paragraphs(item["text"])
    elif fmt == "md_dir":
        for file in sorted(path.glob(spec.glob)):
            if file.suffix == ".md" and file.is_file():
                yield str(file.relative_to(path)), _paragraphs(markdown_body(file.read_text(encoding="utf-8")))
    elif fmt == "klue_dp":
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("## ") and "\t" in line:
                    key, text = line[3:].split("\t", 1)
                    yield key.strip(), [text.strip()]
    elif fmt == "klue_pairs":
        for number, item in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            yield str(item.get("guid", number)), [item[key] for key in ("premise", "hypothesis", "sentence1",
                                                                       "sentence2") if item.get(key)]
    else:
        raise ValueError(f"corpus {spec.name}: unknown format {fmt!r}")


def corpus_texts(spec: CorpusSpec) -> Iterator[str]:
    """Texts (sentences or paragraphs) of one corpus, in order."""
    for _, texts in corpus_documents(spec):
        yield from texts


def unlabeled_texts(config: str | Path) -> Iterator[tuple[str, str]]:
    """(corpus name, text) over every corpus of the config, in config order."""
    for spec in load_corpus_specs(config):
        for text in corpus_texts(spec):
            yield spec.name, text
