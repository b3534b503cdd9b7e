"""Background tasks: thin wake-ups that hand a take id to the lifecycle."""

from django.tasks import task

from . import remote, rendering
from .models import Take


@task()
def advance_take(take_id: int) -> str | None:
    """Do whatever the take needs next; the row, not the task, says what that is."""
    local = Take.objects.filter(pk=take_id, endpoint__isnull=True).exists()
    if local:
        return rendering.run_take(take_id)
    remote.advance(take_id)
    return None
