"""What the composer template needs, for every view that renders it (studio and library)."""

from . import access
from .forms import ShotForm
from .models import Membership, Role, Workspace
from .prompts import compose, shot_words


def composer_context(membership: Membership, form: ShotForm) -> dict:
    """What the composer (studio/composer.html) needs, wherever it is drawn alone.
    A viewer's page names the owners to ask for editor access (``owners``)."""
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "can_edit": membership.can_edit,
        "owners": [] if membership.can_edit else workspace_owners(membership.workspace),
        "form": form,
        **preview_context(form),
    }


def studio_context(membership: Membership, form: ShotForm, before=None) -> dict:
    """The studio page: the composer and a page of takes (``before``: from that take_page
    cursor on instead of the newest)."""
    return {**composer_context(membership, form), **access.take_page(membership.workspace, before)}


def preview_context(form: ShotForm) -> dict:
    """The composed prompt as typed so far, its length and its lint findings."""
    shot = form.preview_shot()
    text = compose(shot)
    return {
        "composed": text,
        "words": shot_words(shot),
        "chars": len(text),
        "char_limit": form.info.max_prompt_chars,
        "findings": form.findings(shot) if not shot.is_empty else [],
    }


def prefilled(membership: Membership, values: dict) -> ShotForm:
    """A composer form showing ``values`` (a shot and its settings) as if typed."""
    form = ShotForm(workspace=membership.workspace, initial=values)
    form.data = values  # so the preview and settings panel show them
    return form


def workspace_owners(workspace: Workspace) -> list[str]:
    """The usernames of the workspace's owners: the people who can give editor access."""
    found = Membership.objects.filter(workspace=workspace, role=Role.OWNER).select_related("user")
    return [m.user.get_username() for m in found.order_by("created_at", "pk")]
