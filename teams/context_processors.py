"""What every page's top bar needs from teams."""

from .notifications import Bell


def bell(request) -> dict:
    """The bell's unread count, counted only if the page shows the bell."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"bell": Bell(user)}
