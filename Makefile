# mmkit: `make demo` and `make test` each do all set-up on a fresh Debian machine.
#   setup  Debian packages (apt-get, only those missing) + .venv with the Python tools
#   build  C++ core, tests, benchmarks and the Python extension (one CMake build in build/py);
#          installs the package into .venv, so .venv/bin/mmkit is the command
#   test   ctest (GoogleTest) + pytest
#   demo   the main job on its embedded default: a GLFT backtest on the synthetic market
#   bench  Google Benchmark micro-benchmarks + replay throughput on the real data
SHELL := /bin/bash
.DEFAULT_GOAL := build

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MMKIT := $(VENV)/bin/mmkit
BUILD_DIR := build/py
export MMKIT_DATA_DIR ?= $(abspath ../shared/data)

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := g++ make pkg-config python3 python3-venv python3-dev \
  zlib1g-dev libzstd-dev libzip-dev libsimdjson-dev libhowardhinnant-date-dev tzdata \
  libgtest-dev libgmock-dev libbenchmark-dev libeigen3-dev

.PHONY: setup build test demo bench clean

setup: $(VENV)/.setup-done

$(VENV)/.setup-done: requirements-dev.txt
	@missing=$$(for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

build: setup
	$(PIP) install -q --disable-pip-version-check --no-build-isolation .

test: build
	cd $(BUILD_DIR) && ../../$(VENV)/bin/ctest --output-on-failure --timeout 900 -j2
	$(VENV)/bin/pytest -q tests/python

demo: build
	$(MMKIT) backtest --out runs/demo

bench: build
	$(BUILD_DIR)/book_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
	$(MMKIT) bench replay --standard
	$(PY) bench/backtest_bench.py

clean:
	rm -rf build runs
