"""kfact: Korean news fact extraction.

Article -> spaCy Doc (Kiwi tokens, entities with normalized values) -> Claims.
Importing the package registers the tokenizer, the extension attributes and the pipeline factories.
`pipeline.load()` and `pipeline.extract(records)` are the Python API (pipeline/api.py).
"""
from pipeline import extensions as _extensions  # noqa: F401  (registers Doc/Span/Token attributes)
from pipeline import components as _components  # noqa: F401  (registers the tokenizer and every factory)

from pipeline.api import extract, load  # noqa: E402,F401  (the Python API)

__version__ = "0.1.0"
__all__ = ["extract", "load"]
