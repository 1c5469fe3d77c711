"""Typed, validated definitions built from a loaded project."""

from segsql.definitions.project import Definitions, build_definitions

__all__ = ["Definitions", "build_definitions"]
