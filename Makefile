# rdimkd-mm: every target sets up .venv first (scripts/setup_env.sh; seconds once built).
PY := .venv/bin/python

.PHONY: setup demo test bench clean-demo

setup:
	bash scripts/setup_env.sh

demo: setup
	$(PY) tools/distill_demo.py

test: setup
	$(PY) -m pytest tests -q

clean-demo:
	rm -rf work_dirs/demo
