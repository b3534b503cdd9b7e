"""Purging the trash: what happens to a trashed take for good, SLATE_TRASH_DAYS after it was
trashed (`manage.py library purge-trash`, from cron) or when someone empties the trash.

A purge never deletes the take's row. Studio owns takes, and the row is more than a video:
its ledger entries (what was spent, what budgets and usage reports count) and the storyboard
cards that made it hang on it, and its children's lineage points at it. So a purge deletes
the media files (video, poster, spritesheet) and clears them from the take, and removes what
library keeps to organise it (folder, tags, stars, links to it alone). What people said about
it (reviews, circles, client picks and comments) stays with the take's record. The take stays
marked trashed and purged: it never comes back to the library, and can't be restored.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from studio.models import ACTIVE_STATUSES, Take, Workspace

from .models import ShareLink, Star, TakeFiling, TakeTag, TrashedTake

log = logging.getLogger(__name__)
MEDIA_FIELDS = ("video", "poster", "spritesheet")


@dataclass
class Purged:
    takes: int = 0  # takes purged now
    files: int = 0  # media files deleted (after the commit)
    waiting: int = 0  # trashed takes still rendering: left for a later purge

    def __str__(self) -> str:
        said = f"Purged {self.takes} take{'s' if self.takes != 1 else ''}"
        if self.takes:
            said += " (videos deleted; prompts, costs and lineage stay in the studio's records)"
        said += "."
        if self.waiting:
            said += (
                f" {self.waiting} take{' is' if self.waiting == 1 else 's are'} still rendering"
                " and stay in the trash until finished."
            )
        return said


def purge_due_at(trashed_at: datetime) -> datetime:
    return trashed_at + timedelta(days=settings.SLATE_TRASH_DAYS)


def waiting_in_trash(workspace: Workspace | None = None):
    """Trash rows not purged yet (of one workspace, or of all)."""
    rows = TrashedTake.objects.filter(purged_at=None)
    return rows.filter(take__workspace=workspace) if workspace is not None else rows


def purge_overdue(workspace: Workspace | None = None, now: datetime | None = None) -> Purged:
    """Purge what has been in the trash longer than SLATE_TRASH_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SLATE_TRASH_DAYS)
    return purge(waiting_in_trash(workspace).filter(at__lte=cutoff))


def empty_trash(workspace: Workspace) -> Purged:
    """Purge everything in ``workspace``'s trash now (the "Empty trash" button)."""
    return purge(waiting_in_trash(workspace))


def purge(rows) -> Purged:
    """Purge the takes of these trash ``rows`` (a TrashedTake queryset).

    One transaction: the rows are locked and re-checked, so two purges at once purge each
    take once, and a take restored meanwhile isn't purged. Takes still rendering wait (the
    engine may yet write their files). Files go only after the commit, and only those no
    other take still names: a rolled-back purge deletes nothing, and a crash between commit
    and deletion leaves orphaned files, never a take pointing at a deleted one."""
    with transaction.atomic():
        locked = list(
            rows.filter(purged_at=None).select_for_update().select_related("take").order_by("pk")
        )
        due = [row for row in locked if row.take.status not in ACTIVE_STATUSES]
        result = Purged(waiting=len(locked) - len(due))
        if not due:
            return result
        ids = [row.take_id for row in due]
        names = {
            name
            for row in due
            for name in (getattr(row.take, f).name for f in MEDIA_FIELDS)
            if name
        }
        Take.objects.filter(pk__in=ids).update(**dict.fromkeys(MEDIA_FIELDS, ""))
        still_named = Q()
        for f in MEDIA_FIELDS:
            still_named |= Q(**{f"{f}__in": names})
        shared_files = set()
        for row in Take.objects.filter(still_named).values(*MEDIA_FIELDS):
            shared_files |= set(row.values())
        names -= shared_files
        TakeFiling.objects.filter(take_id__in=ids).delete()
        TakeTag.objects.filter(take_id__in=ids).delete()
        Star.objects.filter(take_id__in=ids).delete()
        ShareLink.objects.filter(take_id__in=ids).delete()
        TrashedTake.objects.filter(pk__in=[row.pk for row in due]).update(purged_at=timezone.now())
        result.takes, result.files = len(due), len(names)
        transaction.on_commit(lambda: _delete_files(sorted(names)))
    return result


def _delete_files(names: list[str]) -> None:
    storage = Take._meta.get_field("video").storage
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            # Left behind, not lost: nothing names the file any more.
            log.warning("Couldn't delete purged media %s", name, exc_info=True)
