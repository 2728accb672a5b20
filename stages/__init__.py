"""Stage kinds. Importing this package registers every kind."""

from stages import committee, evaluation, management  # noqa: F401  (registration)
from stages.base import KINDS, StageKind, TransitionSpec

__all__ = ["KINDS", "StageKind", "TransitionSpec"]
