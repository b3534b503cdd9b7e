"""Template filters for take fragments (loaded with ``{% load slate %}``)."""

from django import template

from studio.models import Status, Take
from studio.progress import Progress, progress_of

register = template.Library()

# What a take that ended without a video says when its ending left no message
# (a cancel from Slate's own button, rows from before messages were kept).
ENDINGS = {
    Status.FAILED: "This take failed. No reason was recorded; nothing was charged.",
    Status.REFUSED: "The provider refused this shot. Nothing was charged.",
    Status.EXPIRED: "The provider deleted the video before Slate could copy it. "
    "Nothing was charged.",
    Status.CANCELLED: "Cancelled. Nothing was kept or charged.",
}


@register.filter
def progress(take) -> Progress:
    """What the progress bar and its label may honestly say (progress.py)."""
    return progress_of(take)


@register.filter
def ending(take: Take) -> str:
    """Why a take ended without a video, as its card and its page say it."""
    return take.error_message or ENDINGS.get(take.status, "")
