"""Events other parts of the portal react to (indicators recompute on both).

Sent by reporting services inside the transaction; receivers that enqueue work use on_commit.
Keyword arguments: filing (Filing), version (FilingVersion), actor (User or None).
"""

from django.dispatch import Signal

filing_submitted = Signal()
filing_accepted = Signal()
