# The course's jobs. `make demo` builds everything and grades the samples; `make test` tests it.
# Every target installs the Python environment first (.venv, from requirements.txt).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
CHAPTERS := $(shell $(PYTHON) -c "from autograder.checks import CHAPTERS; print(*CHAPTERS)")

# nbgrader calls `alembic` and `jupyter` by name: the environment's bin/ comes first.
export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONPATH := $(CURDIR)

.PHONY: demo hub test system venv release site doctor grade clean

demo: site grade
	@echo
	@echo "Website:        $(CURDIR)/_build/html/index.html"
	@echo "Student release: $(CURDIR)/release/<chapter>/exercises.ipynb"
	@echo "Gradebook:      $(CURDIR)/gradebook.db"
	@echo "Grades (CSV):   $(CURDIR)/exports/grades.csv"
	@echo "Feedback:       $(CURDIR)/feedback/<student>/<chapter>/exercises.html"
	@echo "Report:         $(CURDIR)/exports/report.html"
	@echo
	@cat exports/grades.csv

# A JupyterHub for a class on this machine (README, "Running a class"): as root, on 127.0.0.1,
# port HUB_PORT (8000); accounts from hub/roster.csv; Ctrl-C stops it and every server.
HUB_PORT ?= 8000
hub: venv hub/node_modules/.installed
	$(BIN)/python -m hub.classroom --port $(HUB_PORT)

# The proxy, exactly as hub/package-lock.json pins it.
hub/node_modules/.installed: hub/package-lock.json
	npm ci --prefix hub --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages: bubblewrap (grading confines student code) and chromium (browser tests).
system:
	@bash scripts/install-system-packages

venv: system $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@echo "== Installing the Python environment into $(VENV) (a few minutes the first time)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# The student version of each chapter's exercises, and its copy on the website.
release: venv
	@for ch in $(CHAPTERS); do \
	  echo "== Student version of $$ch"; \
	  nbgrader generate_assignment "$$ch" --force --log-level=WARN; \
	  cp "release/$$ch/exercises.ipynb" "book/$$ch/exercises.ipynb"; \
	done

site: release
	@echo "== Building the website (executes the lectures; cached after the first build)"
	$(BIN)/python -m autograder catalog > book/all_exercises.md
	jupyter-book build . -W -n --keep-going

# Test, with real programs in the sandbox, every promise grading makes about student code.
doctor: venv
	$(BIN)/python -m autograder doctor

# Grade the bundled sample submissions, as an instructor grades real ones: only where the doctor
# finds every promise of the sandbox held (or the instructor opted out, knowing what is lost).
# --cached: a proof kept from an earlier run on this host stands while nothing it depends on
# changed (host, boot, user, cgroups, bubblewrap, limits, the sandbox's code); `make doctor`
# proves it again.
# `python -m autograder grade` runs nbgrader's autograde pipeline on every core (a Dask
# LocalCluster; --scheduler tcp://HOST:8786 for a cluster), then feedback, export and the report.
grade: release
	$(BIN)/python -m autograder doctor --cached || \
	  [ "$${COURSE_GRADING_WITHOUT_SANDBOX:-}" = I_UNDERSTAND_STUDENT_CODE_IS_UNCONFINED ]
	rm -rf submitted autograded feedback exports logs
	mkdir -p submitted exports
	cp -r samples/submitted/. submitted/
	$(BIN)/python -m autograder grade $(CHAPTERS)
	@for ch in $(CHAPTERS); do \
	  echo "== Feedback for $$ch"; \
	  nbgrader generate_feedback "$$ch" --force --log-level=WARN; \
	done
	nbgrader export --to exports/grades.csv
	$(BIN)/python -m autograder report --out exports/report.html

# The site is part of what is tested: its build fails on any warning, then the linter and the
# type checker (autograder/ and solutions/, pyproject.toml's [tool.mypy]) run and pytest reads
# the site. The classroom hub's test (tests/hub) needs its proxy from npm.
test: site hub/node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

clean:
	rm -rf _build release submitted autograded feedback exports logs gradebook.db
	rm -f $(foreach ch,$(CHAPTERS),book/$(ch)/exercises.ipynb) book/all_exercises.md
