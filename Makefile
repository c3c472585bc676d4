# Briefkasten — two commands on a fresh Debian machine: `make run` and `make test`.
# Both install what is missing (Debian packages, the venv at .venv, the package), then run.

VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
SUDO        := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng tesseract-ocr-osd \
                tesseract-ocr-ukr tesseract-ocr-rus tesseract-ocr-bul tesseract-ocr-ara \
                tesseract-ocr-fas tesseract-ocr-tur tesseract-ocr-ron tesseract-ocr-pol \
                poppler-utils fonts-dejavu-core fonts-liberation2 fonts-noto-core
DEMO_OUT    := var/demo

.PHONY: run link demo test test-fast bench eval eval-doctype lint setup system-deps samples clean rabbitmq chromium \
        clamd promtool pdfbox redis

# make run's API key when none is configured: for trying it out on 127.0.0.1 only.
DEMO_API_KEYS := demo:demo-key-change-me
# make run's and make link's upload-link secret when none is configured: random, made once.
DEMO_SECRET_FILE := var/links-secret
DEMO_SECRET = $$(test -s $(DEMO_SECRET_FILE) || { mkdir -p var && umask 077 && \
	$(PY) -c 'import secrets; print(secrets.token_urlsafe(48))' > $(DEMO_SECRET_FILE); }; \
	cat $(DEMO_SECRET_FILE))

setup: system-deps $(STAMP)

system-deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 (>= 3.11) is required"; exit 1; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	@touch $(STAMP)

run: setup
	@echo "Briefkasten: http://127.0.0.1:8080 (embedded mode; API key demo-key-change-me unless BRIEFKASTEN_API_KEYS is set)"
	@BRIEFKASTEN_API_KEYS="$${BRIEFKASTEN_API_KEYS:-$(DEMO_API_KEYS)}" \
	BRIEFKASTEN_LINKS_SECRET="$${BRIEFKASTEN_LINKS_SECRET:-$(DEMO_SECRET)}" \
	$(VENV)/bin/briefkasten serve --log-format text

# An upload link for the demo tenant of make run: open the printed url in a browser.
link: setup
	@BRIEFKASTEN_LINKS_SECRET="$${BRIEFKASTEN_LINKS_SECRET:-$(DEMO_SECRET)}" \
	$(VENV)/bin/briefkasten link create --tenant demo --case 12345BG0012345 \
		--types kontoauszug,mietvertrag

demo: setup
	@mkdir -p $(DEMO_OUT)
	$(VENV)/bin/briefkasten ingest samples/set/brief-scan.png samples/set/kontoauszug-skewed.jpg \
		samples/set/mietvertrag-photo.jpg samples/set/lohnabrechnung-turned.png \
		--output $(DEMO_OUT)/dokument.pdf --report $(DEMO_OUT)/report.json --type sonstiges
	@echo "PDF:    $(DEMO_OUT)/dokument.pdf"
	@echo "Report: $(DEMO_OUT)/report.json"
	@echo "Text:   pdftotext $(DEMO_OUT)/dokument.pdf -"

# Every tier (tests/unit, tests/integration, tests/e2e), after lint and with every server the
# tests need. Under CI=true (CI sets it) a test whose server or program is missing fails.
test: setup lint rabbitmq redis chromium clamd promtool pdfbox
	$(VENV)/bin/pytest -q -n 2 --dist loadfile

# The unit tier only: no servers, no external programs; well under a minute.
test-fast: setup
	$(VENV)/bin/pytest -q -n 2 --dist loadfile tests/unit

# The browser tests drive Debian's chromium headless (Playwright never downloads a browser).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; \
	fi

# The malware-scan tests start their own clamd (tests/support/clamd.py: a signature database
# they write, a socket in a temp directory); only the binary is needed. The system clamd is not
# started here.
clamd:
	@if ! command -v clamd >/dev/null && [ ! -x /usr/sbin/clamd ]; then \
		echo "Installing Debian's clamav-daemon for the malware-scan tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends clamav-daemon; \
	fi

# The alert-rules test runs promtool: Debian's prometheus package ships /usr/bin/promtool
# (the Prometheus server it also installs is not started here).
promtool:
	@if ! command -v promtool >/dev/null; then \
		echo "Installing Debian's prometheus for promtool (the alert-rules test)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus; \
	fi

# The PDF/A tests (tests/integration/test_pdfa.py) run Apache PDFBox Preflight
# (/usr/share/java/preflight.jar, tests/support/preflight.py) on every kind of output PDF.
PDFBOX_PACKAGES := default-jre-headless libpdfbox2-java libactivation-java libjaxb-api-java
pdfbox:
	@missing=""; \
	for p in $(PDFBOX_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ] && ! { command -v java >/dev/null && [ "$$missing" = " default-jre-headless" ]; }; then \
		echo "Installing Debian packages for Apache PDFBox Preflight:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The tests need a RabbitMQ on 127.0.0.1:5672 (guest/guest). Start one where none answers.
rabbitmq:
	@if ! $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5672), 2).close()" 2>/dev/null; then \
		echo "No RabbitMQ on 127.0.0.1:5672: installing and starting one"; \
		command -v rabbitmq-server >/dev/null || { $(SUDO) apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq rabbitmq-server; }; \
		$(SUDO) rabbitmq-server -detached; \
		for i in $$(seq 1 60); do \
			$(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5672), 2).close()" 2>/dev/null && break; \
			sleep 2; \
		done; \
		$(SUDO) rabbitmqctl await_startup --timeout 60; \
	fi

# The shared-state tests (tests/integration/test_shared_state.py) start their own redis-server
# on a free loopback port (tests/support/redis_server.py: no persistence, a random password);
# only the binary is needed. For trying gateway.rate_limit_storage by hand, one is started on
# 127.0.0.1:6379 where none answers (nothing saved to disk).
redis:
	@if ! command -v redis-server >/dev/null; then \
		echo "Installing Debian's redis-server for the shared-state tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server; \
	fi
	@if ! $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 6379), 2).close()" 2>/dev/null; then \
		echo "No Redis on 127.0.0.1:6379: starting one"; \
		redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes \
			--logfile /tmp/briefkasten-redis.log >/dev/null; \
	fi

lint: setup
	$(VENV)/bin/ruff check briefkasten tests samples bench
	$(VENV)/bin/ruff format --check briefkasten tests samples bench
	$(VENV)/bin/mypy briefkasten samples bench

eval: setup
	$(PY) -m samples.evaluate
	$(PY) -m samples.doctype_eval

# The document type suggestion alone: accuracy per type and a confusion table
# (80 pages, about 2 minutes on 2 cores).
eval-doctype: setup
	$(PY) -m samples.doctype_eval

bench: setup rabbitmq redis
	$(PY) bench/bench.py

samples: setup
	$(PY) -m samples.generate --small-demo --out samples/set

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
