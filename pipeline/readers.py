"""Input readers: every input record becomes an Article or a Reject with a reason.

Formats: JSONL (optionally .gz), .txt files, and directories of them. Nothing is skipped
silently: an unreadable line, a truncated gzip or a bad encoding yields a Reject.
"""
from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pydantic import ValidationError

from pipeline.schema import Article, Reject

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json")


@dataclass
class Item:
    """One input record: an Article to process, or a Reject to write."""

    article: Article | None
    reject: Reject | None
    source: str


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "record"
    return f"{where}: {first.get('msg', 'invalid')}"


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM optional) or BOM-marked UTF-16; anything else raises UnicodeDecodeError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def read_jsonl(path: Path) -> Iterator[Item]:
    opener = gzip.open if path.name.endswith(".gz") else open
    line_no = 0
    try:
        with opener(path, "rb") as handle:
            for line_no, raw in enumerate(handle, 1):
                source = f"{path}:{line_no}"
                if not raw.strip():
                    continue
                try:
                    data = json.loads(decode_text(raw))
                except UnicodeDecodeError as error:
                    yield Item(None, Reject(id=None, source=source, reason=f"not UTF-8: {error.reason} at byte {error.start}"), source)
                    continue
                except json.JSONDecodeError as error:
                    yield Item(None, Reject(id=None, source=source, reason=f"not JSON: {error.msg} at column {error.colno}"), source)
                    continue
                if not isinstance(data, dict):
                    yield Item(None, Reject(id=None, source=source, reason=f"not a JSON object but {type(data).__name__}"), source)
                    continue
                record_id = data.get("id")
                record_id = str(record_id) if isinstance(record_id, (str, int)) and not isinstance(record_id, bool) else None
                try:
                    yield Item(Article.model_validate(data), None, source)
                except ValidationError as error:
                    yield Item(None, Reject(id=record_id, source=source, reason=_first_error(error)), source)
    except (EOFError, OSError, zlib.error) as error:
        source = f"{path}:{line_no + 1}"
        yield Item(None, Reject(id=None, source=source,
                                reason=f"unreadable after line {line_no}: {type(error).__name__}: {error}"), source)


def read_text_file(path: Path, root: Path | None = None) -> Item:
    record_id = str(path.relative_to(root).with_suffix("")) if root else path.stem
    source = str(path)
    try:
        text = decode_text(path.read_bytes())
    except UnicodeDecodeError as error:
        return Item(None, Reject(id=record_id, source=source, reason=f"not UTF-8 or UTF-16: {error.reason} at byte {error.start}"), source)
    except OSError as error:
        return Item(None, Reject(id=record_id, source=source, reason=f"cannot read: {error.strerror or error}"), source)
    return Item(Article(id=record_id, text=text), None, source)


def iter_items(inputs: list[str | Path]) -> Iterator[Item]:
    """Walk the inputs in the given order; directories in sorted path order."""
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                yield from _read_path(child, root=path)
        elif path.exists():
            yield from _read_path(path, root=None)
        else:
            yield Item(None, Reject(id=None, source=str(path), reason="input path does not exist"), str(path))


def _read_path(path: Path, root: Path | None) -> Iterator[Item]:  # noqa: C901
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        yield from read_jsonl(path)
    elif name.endswith(TEXT_SUFFIXES):
        yield read_text_file(path, root)
    else:
        # Even inside a directory an unknown file is reported, so the counts always add up.
        yield Item(None, Reject(id=None, source=str(path), reason=f"unsupported input format: {path.suffix or 'no suffix'}"), str(path))
