"""ALLPath: the care pathway of acute lymphoblastic leukaemia, computable and cited."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
