"""kfact show: one article, its entities highlighted and its claims with their evidence (how a user checks a
surprising fact)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli.render import fail, print_article


@app.command()
def show(
    article: str = typer.Argument(..., help="A .txt/.html/.jsonl file (with --id for a JSONL of many), or - for "
                                            "text on stdin."),
    record_id: Optional[str] = typer.Option(None, "--id", help="Which record of a JSONL or WARC input."),
    published: Optional[str] = typer.Option(None, help="Publication date (YYYY-MM-DD) for text from stdin or a "
                                                       "file that has none: resolves 지난해, 올해."),
    model: Optional[Path] = typer.Option(None, help="Entity model: fast, accurate (configs/models.toml) or a "
                                                    "directory (default: fast)."),
    html: Optional[Path] = typer.Option(None, help="Also write a displaCy page (entities) here."),
) -> None:
    """Print one article with its entities highlighted, then its claims with the sentence each came from."""
    from pipeline.api import load
    from pipeline.nlp import pipe_articles
    from pipeline.schema import Article

    if article == "-":
        found = Article(id="stdin", text=sys.stdin.read(), published=published)
    else:
        found = _find(Path(article), record_id)
        if published and found.published is None:
            found = found.model_copy(update={"published": published})
    if not found.text.strip():
        fail("the article has no text")
    nlp = load(model)
    doc = next(iter(pipe_articles(nlp, [found])))
    print_article(doc)
    if html is not None:
        from spacy import displacy

        html.write_text(displacy.render(doc, style="ent", page=True), encoding="utf-8")
        print(f"wrote {html}", file=sys.stderr)


def _find(path: Path, record_id: Optional[str]):
    """The one article of a file, or the one with id `record_id`."""
    from pipeline.io.readers import iter_items

    if not path.exists():
        fail(f"{path} does not exist")
    found = None
    for item in iter_items([path]):
        if item.article is None:
            if record_id is not None and item.reject is not None and item.reject.id == record_id:
                fail(f"record {record_id} cannot be read: {item.reject.reason}")
            continue
        if record_id is not None:
            if item.article.id == record_id:
                return item.article
        elif found is not None:
            fail(f"{path} holds more than one article: choose one with --id")
        else:
            found = item.article
    if found is None:
        fail(f"no article {record_id!r} in {path}" if record_id else f"no readable article in {path}")
    return found
