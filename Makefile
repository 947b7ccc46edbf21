# The two commands of the README:
#   make demo   installs everything (.venv, dependencies, embedded models, Chromium, LibreOffice)
#               and runs the demo
#   make test   installs what is missing and runs the whole test suite
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO := data/raw/demo_enseignants_ia.csv
DEMO_QUESTION := Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements scolaires ?

.PHONY: setup demo test lint clean-db

$(BIN)/synthese: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(BIN)/synthese

setup: $(BIN)/synthese
	bash scripts/install_chromium.sh
	bash scripts/install_libreoffice.sh
	$(BIN)/synthese models fetch

demo: setup
	$(BIN)/synthese run $(DEMO) --question q_usage_ia --question-text "$(DEMO_QUESTION)" --id-column id_reponse

test: setup
	$(BIN)/python -m pytest

lint:
	$(BIN)/ruff check src flows tests benchmarks scripts
