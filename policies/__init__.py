"""Named, pure guard policies. Importing this package registers every policy."""

from policies import appeals, closing, committee, eligibility, management, quotas  # noqa: F401  (registration)
from policies.base import REGISTRY, GuardContext, Rejection

__all__ = ["REGISTRY", "GuardContext", "Rejection"]
