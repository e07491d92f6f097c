"""Events other parts of the portal react to. Sent by institutions services inside the transaction.

government_backed_changed: a list batch was confirmed; kwargs institution_ids (list[int]), on (date).
institution_attributes_changed: region or other attributes indicators depend on changed; kwargs institution_ids.
"""

from django.dispatch import Signal

government_backed_changed = Signal()
institution_attributes_changed = Signal()
