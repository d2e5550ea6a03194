"""The submissions part of the REST API (/api/submissions...)."""
