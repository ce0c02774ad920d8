# The two commands of the README. Each runs the idempotent set-up first.
.PHONY: setup demo test lint bench

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

test: setup
	@.venv/bin/python -m pytest -n 2 --dist loadgroup -q tests

lint: setup
	@.venv/bin/ruff check tinyflow tests benchmarks
