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


def test_linker_names_pick_a_scorer_with_the_backend_it_was_trained_on():
    import json

    import pytest
    import spacy

    from pipeline.paths import DEFAULT_CONFIG, linker_overrides, resolve_path

    default = spacy.util.load_config(DEFAULT_CONFIG)["components"]["kfact_linker"]
    accurate = linker_overrides("accurate")
    assert accurate["components.kfact_linker.encoder_backend"] == default["encoder_backend"] == "torch"
    assert accurate["components.kfact_linker.scorer_path"] == default["scorer_path"]  # pipeline.cfg's is accurate
    assert linker_overrides("fast")["components.kfact_linker.encoder_backend"] == "static"
    for name in ("fast", "accurate"):
        preset = linker_overrides(name)
        scorer = json.loads(resolve_path(preset["components.kfact_linker.scorer_path"]).read_text(encoding="utf-8"))
        assert scorer["encoder"] == preset["components.kfact_linker.encoder_backend"], name
    assert linker_overrides(None) == {}
    with pytest.raises(ValueError, match="--linker must be one of fast, accurate"):
        linker_overrides("fastest")


def test_the_fast_linker_links_without_a_transformer_pass():
    from pipeline.nlp import load_pipeline
    from pipeline.paths import linker_overrides
    from pipeline.schema import Article

    nlp = load_pipeline(config_overrides=linker_overrides("fast"))
    linker = nlp.get_pipe("kfact_linker")
    assert linker.semantics.encoder.backend == "static" and linker.semantics.encoder.model is None
    doc = nlp.make_doc("한국의 AI 민간 투자는 지난해 13억3000만 달러로 11위였다.")
    doc._.article = Article(id="a", text=doc.text, published="2025-04-08")
    from pipeline.nlp import run_components

    (doc,) = run_components(nlp, [doc])
    values = {c.value for c in doc._.claims}
    assert 1.33e9 in values, doc._.claims
