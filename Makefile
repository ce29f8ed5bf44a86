# Two commands: `make run` and `make test`. Both set themselves up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PREFECT_HOME ?= $(CURDIR)/.venv/prefect-home
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: run test install browser office bench clean fuzz deploy cases-e2e

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/zhibu demo

# The tests use the real clients (Debian packages): headless Chromium renders report.html and the
# 政策清单; LibreOffice prints the bureau xlsx and renders the 核查报告 docx; Noto CJK for both.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: install Debian's chromium package" >&2; fi; }

office:
	@{ command -v soffice >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto.*cjk"; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libreoffice-calc-nogui libreoffice-writer-nogui fonts-noto-cjk poppler-utils >/dev/null; \
	  else echo "LibreOffice missing: install libreoffice-calc-nogui libreoffice-writer-nogui fonts-noto-cjk" >&2; fi; }

# Two workers (the machine's two cores), a test file per worker at a time: 552 tests in ~9.5 min
# instead of ~14.5 min in one process.
test: $(STAMP) browser office
	ZHIBU_REQUIRE_CLIENTS=1 $(BIN)/python -m pytest -n 2 --dist loadfile

# Against a running Prefect server (PREFECT_API_URL): create the `zhibu-local` process work pool
# if missing, register prefect.yaml's deployments (flows load from this checkout), then run a
# worker in the foreground (Ctrl-C stops it). WORKER=0 registers without starting a worker.
WORKER ?= 1
deploy: $(STAMP)
	@test -n "$$PREFECT_API_URL" || { echo "make deploy: PREFECT_API_URL is not set; start a server (prefect server start) and export PREFECT_API_URL=http://127.0.0.1:4200/api" >&2; exit 2; }
	@$(BIN)/prefect work-pool inspect zhibu-local >/dev/null 2>&1 || $(BIN)/prefect work-pool create zhibu-local --type process
	$(BIN)/prefect --no-prompt deploy --all
	@if [ "$(WORKER)" = 1 ]; then exec $(BIN)/prefect worker start --pool zhibu-local --type process; fi

# Contract corpus with thousands of hypothesis examples (tests/contract/contract_profile.py).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/contract

# Every policy case as real month folders through loader, gate, as-of views and matchers
# (the suite runs the cases marked `e2e: suite`).
cases-e2e: $(STAMP)
	ZHIBU_CASES_E2E=all $(BIN)/python -m pytest tests/test_policies_cases_e2e.py

bench: $(STAMP)
	$(BIN)/pip install -q -c constraints.txt -e '.[bench]'
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.history $(HISTORY_ARGS)
	$(BIN)/python -m benchmarks.startup

clean:
	rm -rf $(VENV) data/warehouse.duckdb reports/20*
