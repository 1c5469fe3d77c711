"""Definitions → sqlglot expressions for one dialect."""

from segsql.compiler.query import SegmentCompiler, consent_name, flag_name
from segsql.compiler.registry import COMPILE_DIALECTS, DIALECTS, rules_for

__all__ = ["COMPILE_DIALECTS", "DIALECTS", "SegmentCompiler", "consent_name", "flag_name", "rules_for"]
