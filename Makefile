# Two commands on a fresh machine: `make demo` and `make test` (both set up .venv first).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_ROOT ?= demo_output

.PHONY: setup demo test lint format bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[local,test]"
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

test: setup lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO_ROOT) .pytest_cache .ruff_cache spark-warehouse
