"""The Python API: `pipeline.load()` for a spaCy pipeline, `pipeline.extract(records)` for output records.

    import pipeline
    nlp = pipeline.load()                      # the shipped models; or load("models/my-model")
    doc = nlp("한국은 13억3000만 달러로 11위")    # doc.ents with span._.value, doc._.claims
    for record in pipeline.extract(rows):      # rows: dicts {"id", "text", "published"?}, Articles or strings
        ...                                    # OutputRecord, or Reject for a record that cannot be read
"""
from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator

from pydantic import ValidationError

from pipeline.schema import Article, OutputRecord, Reject


def load(model: str | Path | None = None, *, claims: bool = True, config_overrides: dict | None = None):
    """The kfact pipeline (a spaCy Language) with the entity model in `model` (a directory; None = shipped).

    Calling it on a string gives a Doc whose `doc._.article` is a bare Article (no date: 지난해 stays
    unresolved); `pipe_articles` or `extract` carry each article's `published`."""
    from pipeline.nlp import load_pipeline

    nlp = load_pipeline(model, with_linker=claims, config_overrides=config_overrides)
    return nlp


def _as_article(row: Any, index: int) -> Article | Reject:
    if isinstance(row, Article):
        return row
    if isinstance(row, str):
        row = {"id": str(index), "text": row}
    try:
        return Article.model_validate(row)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "record"
        record_id = row.get("id") if isinstance(row, dict) else None
        return Reject(id=str(record_id) if record_id is not None else None, source=f"record {index}",
                      reason=f"{where}: {first.get('msg')}")


def extract(records: Iterable[Any], nlp=None, batch_size: int = 16) -> Iterator[OutputRecord | Reject]:
    """Output records, lazily and in input order, for use inside a job of your own (a pandas/Arrow loop,
    Spark mapPartitions, a Ray task). A record that is not an article comes back as a Reject with its reason;
    nothing is dropped. Memory holds one batch."""
    from pipeline.nlp import pipe_articles
    from pipeline.runtime.batch import doc_to_record

    nlp = nlp or load()
    rows = enumerate(records)
    while True:
        chunk = [_as_article(row, i) for i, row in islice(rows, batch_size)]
        if not chunk:
            return
        articles = [a for a in chunk if isinstance(a, Article)]
        with nlp.memory_zone():  # the batch's strings leave the vocabulary with its Docs (memory stays flat)
            done = iter([doc_to_record(doc) for doc in pipe_articles(nlp, articles)])
        for item in chunk:
            yield next(done) if isinstance(item, Article) else item
