"""Orchestration: selection, compile, run — everything between definitions and engines."""
