"""Data files a component was built from, saved with it: `nlp.to_disk(DIR)` copies them into DIR/<component>/,
and `spacy.load(DIR)` rebuilds the component from those copies, so a saved pipeline keeps its lexicons,
taxonomy and scorer even when the project's configs/ and models/ change later."""
from __future__ import annotations

import shutil
from pathlib import Path


def save_files(directory: str | Path, files: dict[str, str | Path | None]) -> None:
    """Copy each existing source file to directory/name (name -> source; None or a missing file is skipped)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        if source and Path(source).is_file():
            shutil.copyfile(source, directory / name)


def saved_file(directory: str | Path, name: str) -> Path | None:
    """directory/name if to_disk saved it, else None."""
    path = Path(directory) / name
    return path if path.is_file() else None
