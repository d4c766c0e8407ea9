# Set-up and everyday commands. Every target creates .venv and installs what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
RUNTIME := $(VENV)/.runtime-stamp
# pytest-xdist workers of `make test` (auto: one per core; 0: one process)
TEST_WORKERS ?= auto

.PHONY: run demo test crash-stress system-deps screenshots lint typecheck bench bench-ui-lists bench-service bench-proxy bench-growth bench-growth-postgres bench-servers bench-soak bench-startup clean

# The runtime alone (what `make run` needs); the development tools come with $(STAMP).
$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUNTIME)

## run: the HTTP service on the embedded default (SQLite + files under ./var) at 127.0.0.1:8000
##      (SATCHEL_PORT another port); installs the runtime and the extras the configuration uses
run: $(RUNTIME)
	@extras=$$($(BIN)/python -m satchel.extras) && if [ -n "$$extras" ]; then \
		echo "installing the extras this configuration uses: $$extras"; \
		$(BIN)/python -m pip install --quiet -e ".[$$extras]"; fi
	$(BIN)/satchel serve

## demo: a tour of the embedded library (no server needed)
demo: $(RUNTIME)
	$(BIN)/python -m satchel.demo

## system-deps: Debian packages the tests start on loopback (PostgreSQL, Redis, Ceph RGW, nginx)
system-deps:
	bash scripts/system-deps.sh

## test: lint, format check, type check and the whole test suite (servers included)
test: $(STAMP) system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

## crash-stress: SIGKILL the server 20 times per operation (PUT, multipart, tus, GC); minutes
crash-stress: $(STAMP)
	CRASH_ITERATIONS=20 $(BIN)/pytest -q tests/server/test_crash.py

## bench: Satchel vs chuk-artifacts at library level, plus the raw-disk baseline (opt-in, minutes)
bench: $(STAMP)
	$(BIN)/python bench/library.py

## bench-service: the HTTP service vs nginx and vs Ceph RGW on BlueStore, same files (installs
##                nginx, wrk, curl; Ceph with system-deps); --no-rgw via bench/service.py by hand
bench-service: $(STAMP) system-deps
	command -v nginx >/dev/null || apt-get install -y nginx-light
	command -v wrk >/dev/null || apt-get install -y wrk
	command -v curl >/dev/null || apt-get install -y curl
	$(BIN)/python bench/service.py

## bench-proxy: pull-through cache hits (4 KiB files, one big file) vs nginx serving the same files
bench-proxy: $(STAMP)
	command -v nginx >/dev/null || apt-get install -y nginx-light
	command -v wrk >/dev/null || apt-get install -y wrk
	command -v curl >/dev/null || apt-get install -y curl
	$(BIN)/python bench/proxy.py

## bench-startup: how fast `satchel --help`, `version` and `ls` (against a server) answer
bench-startup: $(STAMP)
	command -v curl >/dev/null || apt-get install -y curl
	$(BIN)/python bench/startup.py

## screenshots: photograph the web UI's main pages into docs/screenshots (Chromium, Playwright)
screenshots: $(STAMP) system-deps
	$(BIN)/python scripts/screenshots.py docs/screenshots

## bench-growth: list/search latency with 10k, 100k and 1M artifacts in the SQLite catalog;
##               GROWTH_ARGS="--sizes 10000,100000,1000000,10000000" for 10M (~6 GiB in /tmp)
bench-growth: $(STAMP)
	$(BIN)/python bench/growth.py $(GROWTH_ARGS)

## bench-growth-postgres: the same on a throwaway PostgreSQL (10k, 100k, 1M; GROWTH_ARGS too)
bench-growth-postgres: $(STAMP) system-deps
	$(BIN)/python bench/growth.py --catalog postgres $(GROWTH_ARGS)

## bench-ui-lists: the web UI's artifact list at 100,000 items, page 1 against pages 10 to 1,000
bench-ui-lists: $(STAMP)
	$(BIN)/python bench/ui_lists.py

## bench-servers: uvicorn (asyncio/h11, uvloop/httptools) vs granian on the same app (needs wrk)
bench-servers: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/servers.py

## bench-soak: 2 min of mixed put/get/list/delete/presign at 64 connections, embedded and PostgreSQL + S3 (moto)
bench-soak: $(STAMP) system-deps
	$(BIN)/python bench/soak.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
