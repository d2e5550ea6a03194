"""The scoring part of the REST API (/api/scoring...)."""
