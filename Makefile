# rdimkd-mm: every target sets up .venv first (scripts/setup_env.sh; seconds once built).
PY := .venv/bin/python

.PHONY: setup demo test bench bench-quick clean-demo

setup:
	bash scripts/setup_env.sh

demo: setup
	$(PY) tools/distill_demo.py

test: setup
	$(PY) -m pytest tests -q

bench: setup
	$(PY) benchmarks/run.py

bench-quick: setup
	$(PY) benchmarks/run.py --quick

clean-demo:
	rm -rf work_dirs/demo
