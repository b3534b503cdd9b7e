"""What every page's navigation needs."""

from django.utils.functional import SimpleLazyObject

from .models import Membership


def workspaces(request) -> dict:
    """The signed-in user's workspaces for the nav's switcher (queried only if shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"workspaces": ()}
    return {
        "workspaces": SimpleLazyObject(
            lambda: list(Membership.objects.filter(user=user).select_related("workspace"))
        )
    }
