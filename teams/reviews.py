"""News of review comments: a client's comment through a review link, a member's notes in
a review. The library saves them and knows nothing of the bell; these receivers of its
models' post_save (connected in TeamsConfig.ready) tell the take's maker and, for a
client's comment, whoever made the link — unless they said no (``review_comments``) or
wrote it themselves.

A receiver runs in a savepoint of its own and logs what goes wrong: a comment is never
lost because its news couldn't be told.
"""

import logging

from django.db import transaction
from django.urls import reverse

from library.models import PASSES, ClientComment, Review

from . import notifications
from .models import NotificationKind

log = logging.getLogger(__name__)

QUOTE_LIMIT = 140
NOTES = tuple(f"{name}_note" for name in PASSES)


def _quietly(work, *args) -> None:
    try:
        with transaction.atomic():
            work(*args)
    except Exception:
        log.exception("Telling about a review comment failed; the comment stands")


def tell(user_ids, workspace_id: int, text: str, link: str) -> None:
    members = [u for u in user_ids if u is not None and notifications.is_member(u, workspace_id)]
    for user_id in notifications.wanting(members, "review_comments"):
        notifications.notify(user_id, workspace_id, NotificationKind.REVIEW_COMMENT, text, link)


def moment(seconds) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(float(seconds), 60)
    return f" at {int(minutes)}:{rest:05.2f}".replace(".00", "")


def client_comment_saved(sender, instance: ClientComment, created: bool, **kwargs) -> None:
    if created and not kwargs.get("raw"):
        _quietly(_client_comment, instance.pk)


def _client_comment(comment_id: int) -> None:
    comment = (
        ClientComment.objects.select_related("take__workspace", "link")
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:
        return
    take = comment.take
    text = (
        f"{notifications.shorten(comment.reviewer, 60)} (review link) commented on "
        f"“{take.title}”{moment(comment.at_seconds)}: "
        f"“{notifications.shorten(comment.text, QUOTE_LIMIT)}”"
    )
    link = reverse("library:shares", args=[take.workspace.slug])
    makers = dict.fromkeys([take.created_by_id, comment.link.created_by_id])
    tell(list(makers), take.workspace_id, text, link)


def review_saving(sender, instance: Review, **kwargs) -> None:
    """Remember the notes as they were, to tell only what a save changed."""
    if kwargs.get("raw"):
        return
    before = Review.objects.filter(pk=instance.pk).values(*NOTES).first() if instance.pk else None
    instance._notes_before = before or {}


def review_saved(sender, instance: Review, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    before = getattr(instance, "_notes_before", {})
    changed = [
        (name, getattr(instance, f"{name}_note").strip())
        for name in PASSES
        if getattr(instance, f"{name}_note").strip()
        and getattr(instance, f"{name}_note") != before.get(f"{name}_note")
    ]
    if changed:
        _quietly(_review_notes, instance.pk, changed)


def _review_notes(review_id: int, changed: list[tuple[str, str]]) -> None:
    review = Review.objects.select_related("take__workspace", "reviewer").filter(pk=review_id)
    review = review.first()
    if review is None or review.take.created_by_id in (None, review.reviewer_id):
        return
    take = review.take
    notes = "; ".join(f"{name}: “{note}”" for name, note in changed)
    text = (
        f"{review.reviewer.get_username()} reviewed “{take.title}”: "
        f"{notifications.shorten(notes, QUOTE_LIMIT + 40)}"
    )
    tell([take.created_by_id], take.workspace_id, text, reverse("take", args=[take.pk]))
