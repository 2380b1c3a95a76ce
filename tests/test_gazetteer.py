from pipeline.components.gazetteer import ModelGazetteer, load_model_names
from pipeline.paths import PROJECT_ROOT


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


def test_listed_orgs_and_relative_dates_fill_gaps_only(nlp_blank):
    from spacy.tokens import Span

    from pipeline.components.gazetteer import load_gap_names

    path = PROJECT_ROOT / "configs" / "entities.toml"
    gazetteer = ModelGazetteer("g", load_model_names(path), load_gap_names(path))
    doc = nlp_blank.make_doc("지난해 하반기 오픈AI는 23억 달러를, 구글은 올해 750억 달러를 메타버스에 썼다.")
    google = next(i for i, t in enumerate(doc) if t.text == "구글")
    doc.ents = [Span(doc, google, google + 1, label="PERSON")]  # the entity model's (wrong) call stands
    doc = gazetteer(doc)
    got = {(e.text, e.label_) for e in doc.ents}
    assert ("오픈AI", "ORG") in got and ("지난해 하반기", "DATE") in got and ("올해", "DATE") in got
    assert ("구글", "PERSON") in got and ("구글", "ORG") not in got
    assert not any(e.text.startswith("메타") for e in doc.ents)  # skip_orgs: 메타버스 is no org
