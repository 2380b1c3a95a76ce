"""Claims from relations drawn in an annotation tool (kfact import): value span -> subject span, labelled
with an indicator. The model's own claim is kept when the relation is the one it proposed; otherwise the
rest of the claim (subject id, year, unit, sign, value) is derived the linker's way."""
from __future__ import annotations

from pipeline.schema import Article


class ClaimBuilder:
    """Relations -> claims: the model's claim when the relation is unchanged, else the linker's own claim
    builder (ClaimLinker.claims_for), with the shipped scorer: one way to build a claim."""

    def __init__(self, linker=None):
        from pipeline.linking.linker import LinkerConfig, build_linker

        self.linker = linker or build_linker(LinkerConfig.from_pipeline_config())
        self._nlp = None

    def _doc(self, text: str, published, spans: list[tuple[int, int, str]]):
        from pipeline.evaluation.metrics import doc_with_spans
        from pipeline.nlp import blank_pipeline

        if self._nlp is None:  # Kiwi loads only when a relation is new
            self._nlp = blank_pipeline()
        return doc_with_spans(self._nlp, Article.model_construct(id="", text=text, published=published), spans)

    def build(self, text: str, published: str | None, spans: list[tuple[int, int, str]],
              relations: list[tuple[tuple[int, int, str], tuple[int, int, str], str]], proposed: list[dict]) -> list[dict]:
        from pipeline.schema import parse_published

        claims: list[dict | None] = []
        drawn: list[tuple[int, tuple]] = []  # (position in claims, relation) for the linker to build
        for value, subject, indicator_id in relations:
            same = [c for c in proposed if (c["value_span"]["start"], c["value_span"]["end"]) == value[:2]
                    and (c["subject_span"]["start"], c["subject_span"]["end"]) == subject[:2]
                    and c["indicator"]["id"] == indicator_id]
            if same:
                claims += [{k: v for k, v in c.items() if k != "subject_span"} for c in same]
            else:
                drawn.append((len(claims), (value[:2], subject, indicator_id)))
                claims.append(None)
        if drawn:
            doc = self._doc(text, parse_published(published), spans)
            for (position, (value, subject, indicator_id)), claim in zip(
                    drawn, self.linker.claims_for(doc, [relation for _, relation in drawn])):
                if claim is None:  # the value span is not a value entity: the relation's claim has no number
                    subject_text = text[subject[0]:subject[1]]
                    label = self.linker.lexicon.subject_label(subject[2], subject_text)
                    claims[position] = {
                        "subject": {"text": subject_text, "type": label,
                                    "id": self.linker.lexicon.subject_id(label, subject_text)},
                        "indicator": {"id": indicator_id, "text": ""}, "year": None, "value": None, "unit": None,
                        "value_span": {"start": value[0], "end": value[1]}, "approximate": False, "value_max": None}
                else:
                    claims[position] = claim.model_dump(exclude={"evidence", "confidence"})
        return [c for c in claims if c is not None]
