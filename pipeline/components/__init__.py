"""The spaCy components of kfact, registered in one place.

Importing this package registers the extension attributes, the Kiwi tokenizer (`kfact.KiwiTokenizer.v1`) and every factory; the
same factories are listed as `spacy_factories` entry points in pyproject.toml, so `spacy.load` of a saved
kfact pipeline finds them without importing kfact first.
"""
from pipeline import extensions  # noqa: F401  (Doc/Span/Token attributes, before any component uses them)
from pipeline.components import clean, gazetteer, ner, normalize, tokenizer, value_repair  # noqa: F401  (registration)
from pipeline.components import linker  # noqa: F401  (registration; imports the linking package)
