.PHONY: test lint bench

# The one test command: installs and starts everything it needs, then runs every check.
test:
	bash scripts/test.sh

bench:
	.venv/bin/python bench/bench_provision.py
	.venv/bin/python bench/bench_nodes.py
	.venv/bin/python bench/bench_wordcount.py
	.venv/bin/python bench/bench_plan.py
