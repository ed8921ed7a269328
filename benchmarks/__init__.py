"""The rdimkd-mm benchmark (quality and cost); run it with ``python benchmarks/run.py``."""
