"""Article or sentence text from the shared news CSVs (read in place; paths come from the caller)."""
from __future__ import annotations

import csv
from pathlib import Path


def csv_texts(path: str | Path, limit: int | None = None) -> list[str]:
    """The Korean text column of a shared CSV: Wikinews keeps it in column 3, the sentence corpora
    (finance phrasebank: labels, sentence, kor_sentence) in column 2. Blank cells are skipped."""
    path = Path(path)
    column = 3 if "wikinews" in path.name else 2
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    texts = [row[column] for row in rows[:limit] if len(row) > column and row[column].strip()]
    return texts
