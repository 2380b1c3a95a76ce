"""kfact: Korean news fact extraction.

Article -> spaCy Doc (Kiwi tokens, entities with normalized values) -> Claims.
`pipeline.load()` and `pipeline.extract(records)` are the Python API (pipeline/api.py). Importing the
package is cheap (no spaCy, no torch), so commands that only read stores start fast; the tokenizer, the
extension attributes and the factories are registered by `pipeline.components`, which building a pipeline
imports (and which spaCy's entry points import for `spacy.load` of a saved kfact pipeline).
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["extract", "load"]


def __getattr__(name: str):
    if name in __all__:
        from pipeline import api

        return getattr(api, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
