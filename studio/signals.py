"""What the studio announces to the floors above it, which it never imports (teams tells
people about it). Floor 1: no project imports.

A signal is sent inside the transaction that made the change, in a savepoint of its own:
a receiver's rows commit with the change, and a receiver that fails is logged and undoes
only its own work, never the change. Receivers schedule what leaves the process (mail,
pushes) with ``transaction.on_commit``.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

# A take reached a terminal state. Arguments: take_id, status.
take_ended = Signal()

# A workspace passed a budget alert threshold, once per threshold and month. Arguments:
# workspace_id, threshold (the highest just passed, in percent), spent, cap, month_label,
# member_id (None for the workspace's cap; else the member whose own cap it is).
budget_alert = Signal()


def announce(signal: Signal, sender, **kwargs) -> None:
    """Send ``signal``; whatever a receiver does wrong stays its own problem."""
    try:
        with transaction.atomic():
            signal.send(sender=sender, **kwargs)
    except Exception:
        log.exception("A receiver of %s failed; the change stands", kwargs)
