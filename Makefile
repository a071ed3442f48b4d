# Everything from a fresh clone: `make demo` runs the main job, `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0

.PHONY: install demo test readme clean-nbs bench docs docs-test
install: $(VENV)/.installed

# torch first: a bare `torch` requirement could otherwise resolve to a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: install
	$(VENV)/bin/sgdlab demo --out fit.gif

test: install
	$(VENV)/bin/pytest -n 2

readme: install
	$(PY) tools/make_readme.py

clean-nbs: install
	$(VENV)/bin/nbdev-clean && $(VENV)/bin/nbdev-export && $(PY) tools/make_readme.py

bench: install
	$(PY) benchmarks/run.py

# The lesson site: `make docs` builds _docs/ from the committed outputs (open _docs/index.html, or
# `python -m http.server -d _docs`); `make docs-test` also opens every page in headless Chromium
# (Debian's chromium and chromium-driver: `apt-get install chromium chromium-driver`) at 1366 and 390 px, at device
# pixel ratio 2 and in dark mode, and leaves screenshots in _build/docs-test/. Sharp figures on HiDPI screens:
# `python tools/hidpi.py nbs/X.ipynb`, then re-execute the notebook (tools/hidpi.py says how).
$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e ".[docs]"
	touch $@

docs: $(VENV)/.docs-installed
	$(PY) tools/build_docs.py

# docs-test leaves tools/hidpi.py's notebook run (half a minute) to `make test`, which runs test_docs.py's other
# checks too.
docs-test: $(VENV)/.docs-installed
	SGDLAB_DOCS_TEST=1 $(VENV)/bin/pytest -p no:xdist tests/test_docs.py -k "not hidpi_tool_on_a_module_notebook"

# The declared dependency floor, tested (tests/README.md): fresh venvs with the oldest wheels of every dependency.
FLOOR_PYTHONS ?= 3.10 3.13
.PHONY: test-floor
test-floor:
	bash tools/test_floor.sh $(FLOOR_PYTHONS)

# `pip install .` (not editable) into a fresh venv; import, mnist_sample() and `sgdlab demo` from outside the repo.
.PHONY: check-install
check-install:
	bash tools/check_install.sh

# Mutation testing (tests/README.md): slow, so niced and capped, and never part of CI.
MUTATE_ARGS ?= --max-mutants 12 --max-minutes 40
.PHONY: mutate
mutate: install
	nice -n 10 $(PY) tools/mutate.py $(MUTATE_ARGS)
