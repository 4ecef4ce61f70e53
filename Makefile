# Two commands on a fresh machine: `make demo` and `make test` (both set up what they need first).
PYTHON ?= python3
VENV ?= .venv
VENV35 ?= .venv35
BIN := $(VENV)/bin
DEMO_ROOT ?= demo_output
# the second supported pin (Fabric Runtime 1.3, Databricks 15.4/16.4 LTS)
SPARK35 := pyspark==3.5.5 delta-spark==3.2.1
# on 3.5: the same data (golden checksums), the file layout (csv/parquet x flat/nested), and Delta's
# per-date replace and schema check
DELTA35 := test_rerunning_days_replaces_exactly_those_days test_mismatched_existing_table_is_refused_and_nothing_is_written \
	test_date_partitioned_metastore_tables_take_a_second_batch
SPARK35_TESTS := tests/test_golden.py tests/test_layout.py::test_exact_layout_and_file_dates \
	$(addprefix tests/test_delta.py::,$(DELTA35))

.PHONY: setup setup35 browser demo check test test-spark35 lint format golden bench report-screenshot plotly-bundle clean

setup: $(VENV)/.installed

# pyspark 4.1 + delta-spark 4.2 (Fabric Runtime 2.0), then the Delta jars from Maven Central into ~/.cache
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[local,test]"
	$(BIN)/python -m synthgen_spark.session fetch-jars
	touch $@

# Chromium (Debian's package) for the run report's browser test: installed only when missing and we are root
browser:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || { apt-get update -q && apt-get install -y -q chromium; }

setup35: $(VENV35)/.installed

$(VENV35)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV35)
	$(VENV35)/bin/python -m pip install -q --upgrade pip
	$(VENV35)/bin/python -m pip install -q $(SPARK35)
	$(VENV35)/bin/python -m pip install -q -e ".[test]"
	$(VENV35)/bin/python -m synthgen_spark.session fetch-jars
	touch $@

demo: setup
	$(BIN)/synthgen generate --config conf/jobs/test_feb_2024.yaml --output-root $(DEMO_ROOT)
	@echo "files under $(DEMO_ROOT)/synthetic_data/csv/series/retail_oltp_small/test_feb_2024/flat/"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# the fast tier while you work (under 2 minutes): lint, the Spark-free tests and one small Spark smoke test
# (conftest marks every test that uses the spark fixture `spark`, and the Connect server's `connect`)
FAST := smoke or not (spark or connect or cluster or wheel or notebook)
check: setup lint
	$(BIN)/python -m pytest -q -m "$(FAST)"

# the whole suite on Spark 4.1 (two pytest workers, each test file on one of them, each with its own
# local SparkSession; the slowest files first, tests/conftest.py), then the Delta, writer and data tests on Spark 3.5
test: setup browser lint
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15
	$(MAKE) test-spark35

test-spark35: setup35
	$(VENV35)/bin/python -m pytest -q $(SPARK35_TESTS)

# benchmarks (not tests): synthgen vs dbldatagen, Faker and the write-only floor; ratios in one run.
# The results JSON is committed beside the page rendered from it (docs/performance.md).
bench: setup browser
	$(BIN)/python -m pip install -q -e ".[local,test,bench]"
	$(BIN)/python benchmarks/run_benchmarks.py --profile --out benchmarks/results.json
	$(BIN)/python benchmarks/render_markdown.py benchmarks/results.json --out docs/performance.md

# refresh the report's vendored plotly.js basic bundle to the installed plotly's plotly.js version (from npm)
plotly-bundle: setup
	version=$$($(BIN)/python -c "import re, plotly.offline as o; print(re.search(r'plotly.js v([0-9.]+)', o.get_plotlyjs()[:500]).group(1))") && \
	scratch=$$(mktemp -d) && cd $$scratch && npm pack --silent plotly.js-basic-dist-min@$$version && \
	tar xzf plotly.js-basic-dist-min-$$version.tgz && cp package/plotly-basic.min.js package/LICENSE $(CURDIR)/synthgen_spark/data/plotly/

# regenerate the golden checksums after a deliberate generator change (note it in CHANGELOG.md)
golden: setup
	$(BIN)/python -m tests.golden

# the run report's screenshot in the docs: a small job around Black Friday, opened in headless Chromium
report-screenshot: setup browser
	$(BIN)/python -m tests.report_browser docs/img/report.png

clean:
	rm -rf $(VENV) $(VENV35) $(DEMO_ROOT) .pytest_cache .ruff_cache spark-warehouse
