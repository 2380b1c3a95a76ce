"""Build the kfact pipeline from configs/pipeline.cfg (spaCy's config system)."""
from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language

import pipeline.components  # noqa: F401  (registers the tokenizer, the extensions and every factory)

from pipeline.paths import DEFAULT_CONFIG, resolve_model

TOKENIZER_CONFIG = {"nlp": {"tokenizer": {"@tokenizers": "kfact.KiwiTokenizer.v1"}}}


def blank_pipeline() -> Language:
    """A Korean Language with the Kiwi tokenizer and no components."""
    return spacy.blank("ko", config=TOKENIZER_CONFIG)


def load_pipeline(model_path: str | Path | None = None, config_path: str | Path = DEFAULT_CONFIG,
                  with_linker: bool = True, config_overrides: dict | None = None) -> Language:
    """The full pipeline: Kiwi tokens -> kfact_ner -> kfact_normalize -> kfact_linker.

    `config_overrides` are dotted spaCy config keys, e.g. {"components.kfact_ner.backend": "onnx"}.
    """
    config = spacy.util.load_config(config_path)
    overrides = {"components.kfact_ner.model_path": str(resolve_model(model_path))}
    if not with_linker:
        overrides["nlp.pipeline"] = [name for name in config["nlp"]["pipeline"] if name != "kfact_linker"]
    overrides.update(config_overrides or {})
    config = spacy.util.load_config(config_path, overrides=overrides)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    # spaCy's 1M-char guard is sized for its own parser; Kiwi segments and the entity model windows any length,
    # so the limit that applies is the batch runner's max_chars (--max-chars), not this one.
    nlp.max_length = 10**9
    return nlp


def pipe_articles(nlp: Language, articles) -> list:
    """Articles -> processed Docs, each with its Article on `doc._.article`.

    Components run batch-wise (their own `pipe`), which is where the entity model batches windows.
    """
    docs = []
    for article in articles:
        doc = nlp.make_doc(article.text)
        doc._.article = article
        docs.append(doc)
    return run_components(nlp, docs)


def run_components(nlp: Language, docs: list, names: list[str] | None = None) -> list:
    """Run the pipeline's components (or the named ones, in pipeline order) batch-wise over the Docs."""
    for name, component in nlp.pipeline:
        if names is None or name in names:
            docs = list(component.pipe(docs) if hasattr(component, "pipe") else map(component, docs))
    return docs
