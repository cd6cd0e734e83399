# Two commands on a fresh machine:
#   make run   — install everything, migrate, load demo data, serve on http://127.0.0.1:8000
#   make test  — the same set-up, then the whole suite (the PWA's Node tests, incl. the shared sync
#                vectors of sync/vectors/; SQLite + PostgreSQL + headless Chromium)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
WUYE := $(VENV)/bin/wuye
# Test files are spread over the cores; each worker has its own databases, servers and browser.
PYTEST_ARGS ?= -n auto --dist loadfile

.PHONY: run test fuzz setup venv pwa system-deps postgres db demo bench lint clean

run: setup db demo
	@echo ""
	@echo "Wuye Field: http://127.0.0.1:8000/app/   (API schema: http://127.0.0.1:8000/schema)"
	$(WUYE) serve --host 127.0.0.1 --port 8000

test: setup postgres
	$(VENV)/bin/ruff check server sync tests bench
	cd pwa && npm test --silent
	$(PY) -m pytest $(PYTEST_ARGS)

# schemathesis over /schema (fuzz + stateful, all checks) with an admin's and a technician's token, at
# more examples per operation than `make test` runs (tests/test_fuzz.py; figures in test-artifacts/).
FUZZ_EXAMPLES ?= 25
fuzz: setup postgres
	WUYE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -p no:xdist -s tests/test_fuzz.py

setup: system-deps venv pwa

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# Debian packages the tests need: Chromium for browser tests (Playwright drives /usr/bin/chromium;
# it cannot download a browser here), libzbar to decode QR codes, and CJK fonts so screenshots of
# the Chinese UI are legible; wrk, a C load generator, so bench/progress_bench.py's client does not
# eat the CPU it measures; nginx, the load balancer of deploy/nginx-wuye.conf, in front of the
# multi-node test's three servers (tests/test_multinode.py; its S3 server, moto, comes from PyPI);
# poppler-utils (pdftoppm, pdffonts, pdftotext) to open the report's PDF in tests.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! ldconfig -p | grep -q libzbar.so.0 \
		|| ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || ! command -v wrk >/dev/null 2>&1 \
		|| ! PATH="$$PATH:/usr/sbin" command -v nginx >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then \
		echo "installing chromium, libzbar0, fonts-noto-cjk, wrk, nginx-light and poppler-utils from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libzbar0 fonts-noto-cjk wrk nginx-light poppler-utils >/dev/null; \
	fi

pwa: pwa/dist/.built

pwa/node_modules/.installed: pwa/package.json pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund
	touch $@

pwa/dist/.built: pwa/node_modules/.installed $(shell find pwa/src pwa/public pwa/build.mjs -type f 2>/dev/null)
	cd pwa && npm run build && node size-budget.mjs
	touch $@

postgres:
	@if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then \
		echo "starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; \
	fi

db: venv
	$(WUYE) db upgrade

demo: venv db
	$(WUYE) demo

bench: setup postgres
	$(PY) bench/sync_bench.py
	$(PY) bench/kpi_bench.py
	$(PY) bench/wire_bench.py
	$(PY) bench/photo_shift_bench.py

lint: venv
	$(VENV)/bin/ruff check server sync tests bench

clean:
	rm -rf $(VENV) pwa/node_modules pwa/dist var
