"""Idempotency keys for the REST API's POSTs: a retried request with the same
key and body answers with the first response and creates nothing again."""
