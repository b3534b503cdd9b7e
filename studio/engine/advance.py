"""A task's entry into the engine: read the take's row and do its next step."""

from studio.models import Status, Take

from . import local
from .follow import check, stop
from .submit import reconcile, submit


def advance(take_id: int) -> str | None:
    """Do whatever the take needs next; the row, not the task, says what that is.

    Returns a local render's final status (None for remote steps)."""
    take = Take.objects.select_related("endpoint").filter(pk=take_id).first()
    if take is None or take.is_terminal:
        return None
    if take.endpoint_id is None:  # Slate's own renderer
        return local.run_take(take_id)
    if take.status == Status.QUEUED:
        submit(take)
    elif take.status == Status.SUBMITTING:
        reconcile(take)
    elif take.status == Status.IN_PROGRESS:
        check(take)
    elif take.status == Status.CANCELLING:
        stop(take)
    return None
