"""Deterministic synthetic shop data for `segsql seed --demo`, tests and benchmarks."""
