"""Engine adapters: the only package that opens connections."""

from segsql.engines.base import Adapter, connect
from segsql.errors import EngineError

__all__ = ["Adapter", "EngineError", "connect"]
