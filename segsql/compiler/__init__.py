"""Definitions → sqlglot expressions for one dialect."""

from segsql.compiler.dialects import COMPILE_DIALECTS, rules_for
from segsql.compiler.query import SegmentCompiler, flag_name

__all__ = ["COMPILE_DIALECTS", "SegmentCompiler", "flag_name", "rules_for"]
