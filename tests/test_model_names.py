"""`--model fast|accurate|DIR`: names from configs/models.toml, anything else a path."""
from pipeline.paths import PROJECT_ROOT, model_aliases, resolve_model


def test_names_resolve_to_the_configured_directories():
    aliases = model_aliases()
    assert resolve_model("fast").resolve() == PROJECT_ROOT / aliases["fast"]
    assert resolve_model("accurate").resolve() == PROJECT_ROOT / aliases["accurate"]
    assert resolve_model(None) == resolve_model("fast")  # configs/models.toml: default = "fast"


def test_a_directory_is_taken_as_given(tmp_path):
    assert resolve_model(tmp_path) == tmp_path
    assert resolve_model("models/kfact-ner-student").resolve() == PROJECT_ROOT / "models" / "kfact-ner-student"


def test_the_accurate_model_is_shipped_and_tags_news():
    import pytest

    import pipeline

    if not (resolve_model("accurate") / "model.safetensors").is_file():
        pytest.fail("models/kfact-ner-e5 is not shipped")
    nlp = pipeline.load("accurate", claims=False)
    doc = nlp("삼성전자는 지난해 미국에 13억3000만 달러를 투자했다.")
    labels = {e.text: e.label_ for e in doc.ents}
    assert labels.get("13억3000만 달러") == "MONEY"
    assert labels.get("미국") == "COUNTRY"
