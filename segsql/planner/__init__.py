"""What to compute once for many segments: shared scans, sequence and RFM passes."""

from segsql.planner.shared import SharedSteps

__all__ = ["SharedSteps"]
