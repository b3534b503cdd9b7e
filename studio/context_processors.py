"""What every page's navigation needs."""

from django.utils.functional import SimpleLazyObject

from .models import Membership

# The top bar's sections, by where a page's url lives: a url name, else its app's namespace,
# names its section; a page in none of them (account, invites, errors) marks no link.
SECTION_OF_NAME = {
    "workspace": "studio",
    "take": "studio",
    "take_compare": "studio",
    "take_compare_pick": "studio",
    "providers": "providers",
    "add_provider": "providers",
    "library:presets": "presets",
    "library:preset": "presets",
}
# Only a workspace's own pages (a slug in the url): teams' account and invite pages are none.
SECTION_OF_NAMESPACE = {"library": "library", "storyboard": "boards", "teams": "members"}


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


def section(request) -> dict:
    """The top bar's current section ("studio", "library"…, or "") for ``aria-current``."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"section": ""}
    if found := SECTION_OF_NAME.get(match.view_name):
        return {"section": found}
    if "slug" not in match.kwargs:
        return {"section": ""}
    return {"section": SECTION_OF_NAMESPACE.get(match.namespace, "")}
