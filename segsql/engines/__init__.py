"""Engine adapters: the only package that opens connections."""

from segsql.engines.base import Adapter, EngineError, connect

__all__ = ["Adapter", "EngineError", "connect"]
