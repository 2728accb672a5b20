# The two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test soak lint clean bench bench-import bench-web bench-report catalog

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/evalflow --db demo.db demo
	$(BIN)/evalflow --db demo.db --as songjiang-lead document all --format docx --out demo-documents.zip
	$(BIN)/evalflow --db demo-kechuang.db demo --program kechuang-zhongyuan
	$(BIN)/evalflow --db demo-alliance.db demo --program industry-alliance
	$(BIN)/evalflow --db demo-pioneer.db demo --program pioneer-brand

# the suite on TEST_WORKERS processes (pytest-xdist; each test file's tests stay in one of them);
# `make test TEST_WORKERS=0` runs it in this one
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25

soak: $(STAMP)
	$(BIN)/python -m pytest -q -m soak
	EVALFLOW_RACE_TRIALS=200 EVALFLOW_HYPOTHESIS_EXAMPLES=200 $(BIN)/python -m pytest -q \
		tests/store/test_concurrency.py tests/workflow/test_stateful.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/project_page.py
	$(BIN)/python benchmarks/report_bench.py

bench-import: $(STAMP)
	$(BIN)/python benchmarks/bench_import.py

# the console under nine cities' load on PostgreSQL (EVALFLOW_BENCH_PG_URL; README, RESULTS.md):
# e.g. make bench-web WEB_SIZES=10000 WEB_WORKERS=4
WEB_SIZES ?= 10000,100000
WEB_WORKERS ?= 1
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench-web: $(BENCH_STAMP)
	nice $(BIN)/python benchmarks/web_bench.py --sizes $(WEB_SIZES) --workers $(WEB_WORKERS) --json bench-web.json

# each format of `evalflow report` at 10,000 and 100,000 projects (the cycles are built once into
# the system's temporary folder and kept: the 100,000 one takes minutes and 1.2 GB)
bench-report: $(STAMP)
	nice $(BIN)/python benchmarks/report_bench.py

catalog: $(STAMP)
	$(BIN)/python -m i18n.catalog

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm demo-*.db demo-*.db-wal demo-*.db-shm demo-documents.zip
