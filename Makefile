# rdimkd-mm: every target sets up .venv first (scripts/setup_env.sh; seconds once built).
PY := .venv/bin/python

.PHONY: setup demo lint docs test test-all bench bench-quick clean-demo

setup:
	bash scripts/setup_env.sh

demo: setup
	$(PY) tools/distill_demo.py

# flake8 and isort with the settings in setup.cfg.
lint: setup
	$(PY) -m flake8
	$(PY) -m isort --check-only --diff .

# The docs site (Sphinx + myst-parser): warnings, broken cross-references and anchors are errors.
docs: setup
	$(PY) -m sphinx -E -W --keep-going -n -q -b html docs docs/_build/html

# --durations=25: the log ends with the 25 slowest tests (the suite's budget: 15 min on 2 cores).
test: lint docs
	$(PY) -m pytest tests -q -m 'not slow' --durations=25

# Also the slow tests: the shipped COCO/Cityscapes configs at their real input sizes (minutes each).
test-all: lint docs
	$(PY) -m pytest tests -q --durations=25

bench: setup
	$(PY) benchmarks/run.py

bench-quick: setup
	$(PY) benchmarks/run.py --quick

clean-demo:
	rm -rf work_dirs/demo
