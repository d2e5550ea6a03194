.PHONY: run test lint

# The whole system on embedded defaults: web + worker + local S3/SQS + demo data.
run:
	bash scripts/run.sh

# Every test, with every service it needs started (and stopped) by itself.
test:
	bash scripts/test.sh

lint:
	.venv/bin/ruff check .
