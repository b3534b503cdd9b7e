"""Template filters for take fragments (loaded with ``{% load slate %}``)."""

from django import template

from studio.progress import Progress, progress_of

register = template.Library()


@register.filter
def progress(take) -> Progress:
    """What the progress bar and its label may honestly say (progress.py)."""
    return progress_of(take)
