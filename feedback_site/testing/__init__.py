"""Helpers for tests and benchmarks that drive real processes (never imported by app code)."""
