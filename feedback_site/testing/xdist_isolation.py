"""A pytest plugin, loaded before anything else (``-p`` in pyproject.toml):
under pytest-xdist, each worker process gets SQS queues and an S3 bucket of
its own, as pytest-django gives it a database of its own. Runs at import,
before Django's settings are read; the worker processes a test starts
(runworker, runrelay) inherit the environment."""

import os

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER:
    os.environ["SQS_QUEUE_PREFIX"] = f"{os.environ.get('SQS_QUEUE_PREFIX', 'feedback')}_{_WORKER}"
    os.environ["S3_BUCKET"] = f"{os.environ.get('S3_BUCKET', 'feedback-site-files')}-{_WORKER}"
