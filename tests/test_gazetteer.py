from pipeline.gazetteer import ModelGazetteer, load_model_names
from pipeline.nlp import PROJECT_ROOT


def test_known_models_become_model_entities(nlp_blank):
    from spacy.tokens import Span

    gazetteer = ModelGazetteer("g", load_model_names(PROJECT_ROOT / "configs" / "entities.toml"))
    doc = nlp_blank.make_doc("LG AI연구원의 ‘엑사원 3.5’와 네이버의 하이퍼클로바X, GPT-4o는 다르다.")
    doc.ents = [Span(doc, 0, 3, label="ORG")] + [Span(doc, i, i + 1, label="ORG") for i, t in enumerate(doc) if t.text == "엑사원"]
    doc = gazetteer(doc)
    models = {e.text for e in doc.ents if e.label_ == "MODEL"}
    assert models == {"엑사원 3.5", "하이퍼클로바X", "GPT-4o"}
    assert any(e.text == "LG AI연구원" and e.label_ == "ORG" for e in doc.ents)  # untouched neighbours stay


def test_partial_words_do_not_match(nlp_blank):
    gazetteer = ModelGazetteer("g", ["GPT-4", "엑사원"])
    doc = gazetteer(nlp_blank.make_doc("GPT-4o 그리고 XGPT-4"))
    assert [e.text for e in doc.ents] == []
