.PHONY: test lint bench lock

# The one test command: installs and starts everything it needs, then runs every check.
test:
	bash scripts/test.sh

bench:
	.venv/bin/python bench/bench_provision.py
	.venv/bin/python bench/bench_nodes.py
	.venv/bin/python bench/bench_wordcount.py
	.venv/bin/python bench/bench_plan.py

# Move the pins on purpose: regenerate the three hash-checked lock files (LOCK_UPGRADE=1 for the newest
# releases), then prove the new set with `make test`.
lock:
	bash scripts/lock.sh
