# Two commands: `make run` (set up, load the demo corpus, open the app) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
DEMO   := corpora/socialraadgivere
PORT   ?= 8501

.PHONY: setup demo run test bench fuzz clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: setup
	$(BIN)/focusqa import $(DEMO) --with-reference
	$(BIN)/focusqa autocode

run: demo
	$(BIN)/focusqa serve --port $(PORT)

# System packages (Chromium, LibreOffice, poppler, PostgreSQL, fonts) are installed when
# missing and possible (root or sudo -n); otherwise their tests skip, one line each.
test: setup
	scripts/system-deps.sh
	scripts/with-postgres.sh $(PY) -m pytest -n 2 --dist loadfile -q -ra

bench: setup
	$(PY) benchmarks/run_all.py

# The long fuzz run of the import commands (about an hour on 2 busy cores): 10,000 hostile
# files; exits non-zero on a traceback, a slow or greedy input, or a changed database.
FUZZ_ARGS ?= --inputs 10000 --workers 3
fuzz: setup
	$(PY) benchmarks/fuzz.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
