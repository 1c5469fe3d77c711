"""Incremental runs (SPEC 9): which users can have changed since the last successful run."""
