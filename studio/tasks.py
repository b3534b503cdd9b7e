"""Background tasks: thin wake-ups that hand a take id to the engine.

``wake`` is the lifecycle's enqueue hook (wired in ``StudioConfig.ready``), so
``studio.takes`` can schedule work without importing the engine above it.
"""

from datetime import datetime

from django.tasks import task

from .engine.advance import advance
from .models import Take


@task()
def advance_take(take_id: int) -> str | None:
    """Do whatever the take needs next; the row, not the task, says what that is."""
    return advance(take_id)


def wake(take_id: int, run_after: datetime | None = None) -> None:
    """Wake the take up now (or at ``run_after``) on a worker."""
    task_ = advance_take.using(run_after=run_after) if run_after else advance_take
    result = task_.enqueue(take_id)
    Take.objects.filter(pk=take_id).update(task_id=str(result.id))
