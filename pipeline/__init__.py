"""kfact: Korean news fact extraction.

Article -> spaCy Doc (Kiwi tokens, entities with normalized values) -> Claims.
Importing the package registers the tokenizer, the extension attributes and the pipeline factories.
"""
from pipeline import extensions as _extensions  # noqa: F401  (registers Doc/Span/Token attributes)
from pipeline import components as _components  # noqa: F401  (registers the tokenizer and every factory)

__version__ = "0.1.0"
