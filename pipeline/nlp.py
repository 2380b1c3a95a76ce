"""Build the kfact pipeline from configs/pipeline.cfg (spaCy's config system)."""
from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language

import pipeline  # noqa: F401  (registers tokenizer and extensions)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "pipeline.cfg"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "kfact-ner-small"
TOKENIZER_CONFIG = {"nlp": {"tokenizer": {"@tokenizers": "kfact.KiwiTokenizer.v1"}}}


def resolve_path(path: str | Path) -> Path:
    """Relative paths in configs name files of this project: try the working directory, then the project."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return PROJECT_ROOT / candidate


def blank_pipeline() -> Language:
    """A Korean Language with the Kiwi tokenizer and no components."""
    return spacy.blank("ko", config=TOKENIZER_CONFIG)


def load_pipeline(model_path: str | Path | None = None, config_path: str | Path = DEFAULT_CONFIG,
                  with_linker: bool = True, config_overrides: dict | None = None) -> Language:
    """The full pipeline: Kiwi tokens -> kfact_ner -> kfact_normalize -> kfact_linker.

    `config_overrides` are dotted spaCy config keys, e.g. {"components.kfact_ner.backend": "onnx"}.
    """
    from pipeline import entity_model, gazetteer, linker, noise_marker, value_normalizer  # noqa: F401  (factories)

    config = spacy.util.load_config(config_path)
    overrides = {"components.kfact_ner.model_path": str(resolve_path(model_path) if model_path else DEFAULT_MODEL)}
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
    """(id, text, published) triples -> processed Docs, with the article fields on `doc._`.

    Components run batch-wise (their own `pipe`), which is where the entity model batches windows.
    """
    docs = []
    for article_id, text, published in articles:
        doc = nlp.make_doc(text)
        doc._.article_id = article_id
        doc._.published = published
        docs.append(doc)
    return run_components(nlp, docs)


def run_components(nlp: Language, docs: list, names: list[str] | None = None) -> list:
    """Run the pipeline's components (or the named ones, in pipeline order) batch-wise over the Docs."""
    for name, component in nlp.pipeline:
        if names is None or name in names:
            docs = list(component.pipe(docs) if hasattr(component, "pipe") else map(component, docs))
    return docs
