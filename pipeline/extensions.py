"""Extension attributes, registered once for the whole package (spaCy's pattern)."""
from spacy.tokens import Doc, Span, Token

_DOC = {
    "article_id": None,
    "published": None,  # datetime.date: anchors 지난해/올해
    "claims": None,  # list[pipeline.schema.Claim]; None until the linker ran
    "boilerplate": None,  # list[(start, end)] char ranges judged crawl noise (set by kfact_clean)
    "noise": None,  # list[pipeline.cleaning.Noise]: the same ranges with the reason for each
}
_SPAN = {
    "value": None,  # pipeline.normalize NumericValue | DateValue | None
    "ner_score": None,
}
_TOKEN = {"kiwi_forms": None}

for name, default in _DOC.items():
    if not Doc.has_extension(name):
        Doc.set_extension(name, default=default)
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
