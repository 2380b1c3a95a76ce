"""Extension attributes, registered once for the whole package (spaCy's pattern)."""
from spacy.tokens import Doc, Span, Token

_DOC = {
    "article": None,  # pipeline.schema.Article: id, published (anchors 지난해/올해), title, url
    "claims": None,  # list[pipeline.schema.Claim]; None until the linker ran
    "noise": None,  # list[pipeline.schema.NoiseRange], sorted, non-overlapping (set by kfact_clean)
}
# Read-only views of the Article, for components and evaluation.
_DOC_GETTERS = {
    "article_id": lambda doc: doc._.article.id if doc._.article is not None else None,
    "published": lambda doc: doc._.article.published if doc._.article is not None else None,
}
_SPAN = {
    "value": None,  # pipeline.normalize NumericValue | DateValue | None
    "ner_score": None,
}
_TOKEN = {"kiwi_forms": None}

for name, default in _DOC.items():
    if not Doc.has_extension(name):
        Doc.set_extension(name, default=default)
for name, getter in _DOC_GETTERS.items():
    if not Doc.has_extension(name):
        Doc.set_extension(name, getter=getter)
for name, default in _SPAN.items():
    if not Span.has_extension(name):
        Span.set_extension(name, default=default)
for name, default in _TOKEN.items():
    if not Token.has_extension(name):
        Token.set_extension(name, default=default)


_TEXT_KEY = "kfact_text"


def doc_text(doc: Doc) -> str:
    """`doc.text`, cached: spaCy joins every token on each access, and components slice it per entity.

    Safe because kfact never retokenizes a Doc after it is made (only doc.ents change).
    """
    text = doc.user_data.get(_TEXT_KEY)
    if text is None:
        text = doc.user_data[_TEXT_KEY] = doc.text
    return text
