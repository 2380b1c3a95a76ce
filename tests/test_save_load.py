"""`nlp.to_disk(DIR)` then `spacy.load(DIR)`: the whole pipeline comes back, with the entity model, lexicons,
taxonomy and scorer read from DIR (not from the project's configs/ and models/)."""
import json

import spacy

import pipeline
from tests.conftest import ROOT

SAMPLE = ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl"


def test_a_saved_pipeline_loads_with_spacy_and_gives_the_same_docs(tmp_path):
    nlp = pipeline.load()
    texts = [json.loads(line)["text"] for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:4]]
    texts.append("한국은 지난해 인공지능 민간 투자가 13억3000만 달러로 세계 11위를 기록했다.")
    nlp.to_disk(tmp_path / "saved")
    saved = tmp_path / "saved"
    for part in ("kfact_ner/model.safetensors", "kfact_linker/indicators.toml", "kfact_linker/scorer.json",
                 "kfact_linker/scorer.vectors.npz", "kfact_gazetteer/entities.toml", "kfact_value_repair/value_repair.toml"):
        assert (saved / part).is_file(), part

    # the saved gazetteer file, not configs/entities.toml, is what the loaded pipeline reads
    entities = saved / "kfact_gazetteer" / "entities.toml"
    entities.write_text(entities.read_text(encoding="utf-8").replace("[models]", '[models]\nqqq = ["쿼카엘엠"]', 1),
                        encoding="utf-8")
    loaded = spacy.load(saved)
    assert loaded.pipe_names == nlp.pipe_names
    assert str(loaded.get_pipe("kfact_linker").config.scorer_path).startswith(str(saved))
    claims = 0
    for text in texts:
        before, after = nlp(text), loaded(text)
        assert [(e.start_char, e.end_char, e.label_, e._.value) for e in before.ents] == \
               [(e.start_char, e.end_char, e.label_, e._.value) for e in after.ents]
        assert [c.model_dump() for c in before._.claims] == [c.model_dump() for c in after._.claims]
        claims += len(after._.claims)
    assert claims > 0, "a comparison of docs without claims proves little"
    assert [(e.text, e.label_) for e in loaded("쿼카엘엠 모델이 공개됐다.").ents][:1] == [("쿼카엘엠", "MODEL")]
    assert "쿼카엘엠" not in [e.text for e in nlp("쿼카엘엠 모델이 공개됐다.").ents if e.label_ == "MODEL"]
