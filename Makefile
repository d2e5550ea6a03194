.PHONY: run test lint bench

# The whole system on embedded defaults: web + worker + local S3/SQS + demo data.
run:
	bash scripts/run.sh

# Every test, with every service it needs started (and stopped) by itself.
test:
	bash scripts/test.sh

lint:
	.venv/bin/ruff check .

# Every benchmark (bench/), each figure beside its floor measured in the same
# run; ~10-15 minutes. Not part of `make test`.
bench:
	bash scripts/bench.sh all
