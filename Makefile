# The README's two commands are `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Two test processes: most tests wait on servers, sockets and subprocesses, not the CPU.
TEST_WORKERS ?= 2

.PHONY: run test worker bench lint format clean

run: $(VENV)/.installed-run
	$(PY) manage.py migrate --noinput
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	scripts/ensure-chromium
	scripts/ensure-services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

# Scale-out: a worker process of its own (run as many as you like).
worker: $(VENV)/.installed-run
	$(PY) manage.py worker

bench: $(VENV)/.installed-dev
	$(PY) bench/render_speed.py
	$(PY) bench/progress_latency.py
	$(PY) bench/provider_calls.py
	$(PY) bench/engine_load.py
	$(PY) bench/download_memory.py
	$(PY) bench/lint_speed.py
	$(PY) bench/reference_fit.py
	$(PY) bench/request_limits.py
	$(PY) bench/busy_database.py
	$(PY) bench/load.py
	$(PY) bench/take_tree.py
	$(PY) bench/board_cut.py
	$(PY) bench/library_search.py
	$(PY) bench/library_export.py
	$(PY) bench/library_share.py
	$(PY) bench/budgets.py

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

$(VENV)/.created:
	python=$$(scripts/find-python) && "$$python" -m venv $(VENV)
	touch $@

$(VENV)/.installed-run: $(VENV)/.created pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.created pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.installed-run

clean:
	rm -rf $(VENV)
