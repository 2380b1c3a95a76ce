"""Claims from relations drawn in an annotation tool (kfact import): value span -> subject span, labelled
with an indicator. The model's own claim is kept when the relation is the one it proposed; otherwise the
rest of the claim (subject id, year, unit, sign, value) is derived the linker's way."""
from __future__ import annotations

from pipeline.schema import Article


class ClaimBuilder:
    """Relations -> claims: the model's claim when the relation is unchanged, else the linker's rules."""

    def __init__(self):
        from pipeline.linking.linker import LinkerConfig, build_linker

        self.linker = build_linker(LinkerConfig(scorer_path=""))
        self.indicators = {i.id: i for i in self.linker.indicators}
        self._nlp = None

    def _doc(self, text: str, published, spans: list[tuple[int, int, str]]):
        from pipeline.evaluation.metrics import doc_with_spans
        from pipeline.nlp import blank_pipeline

        if self._nlp is None:  # Kiwi loads only when a relation is new
            self._nlp = blank_pipeline()
        return doc_with_spans(self._nlp, Article.model_construct(id="", text=text, published=published), spans)

    def build(self, text: str, published: str | None, spans: list[tuple[int, int, str]],
              relations: list[tuple[tuple[int, int, str], tuple[int, int, str], str]], proposed: list[dict]) -> list[dict]:
        from pipeline.linking.periods import sentence_year, year_and_period
        from pipeline.linking.units import signed_number, value_unit
        from pipeline.normalize import NumericValue
        from pipeline.schema import parse_published

        claims, doc = [], None
        for value, subject, indicator_id in relations:
            same = [c for c in proposed if (c["value_span"]["start"], c["value_span"]["end"]) == value[:2]
                    and (c["subject_span"]["start"], c["subject_span"]["end"]) == subject[:2]
                    and c["indicator"]["id"] == indicator_id]
            if same:
                claims += [{k: v for k, v in c.items() if k != "subject_span"} for c in same]
                continue
            if doc is None:
                doc = self._doc(text, parse_published(published), spans)
            value_ent = next((e for e in doc.ents if e.start_char <= value[0] and value[1] <= e.end_char), None)
            subject_text = text[subject[0]:subject[1]]
            lexicon = self.linker.lexicon
            subject_type = lexicon.subject_label(subject[2], subject_text)
            claim = {"subject": {"text": subject_text, "type": subject_type,
                                 "id": lexicon.subject_id(subject_type, subject_text)},
                     "indicator": {"id": indicator_id, "text": ""}, "year": None, "value": None, "unit": None,
                     "value_span": {"start": value[0], "end": value[1]}, "approximate": False, "value_max": None}
            if value_ent is not None and isinstance(value_ent._.value, NumericValue):
                sentence = value_ent.sent
                carried = None
                for previous in doc.sents:  # the period carried over from earlier sentences
                    if previous.start >= sentence.start:
                        break
                    carried = sentence_year(previous, self.linker.report_editions) or carried
                number = value_ent._.value.value
                unit = value_unit(doc, value_ent, self.indicators.get(indicator_id))
                if number is not None:
                    number = signed_number(doc, value_ent, unit, number)
                aliases = [a for a in self.indicators[indicator_id].aliases if a in sentence.text] \
                    if indicator_id in self.indicators else []
                year = year_and_period(doc, sentence, value_ent, carried, self.linker.report_editions)[0]
                claim.update(year=year, value=number, unit=unit,
                             approximate=value_ent._.value.approximate, value_max=value_ent._.value.value_max)
                claim["indicator"]["text"] = max(aliases, key=len) if aliases else ""
            claims.append(claim)
        return claims
