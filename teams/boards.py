"""News of board renders: one notification when a board render's last take has ended.

A board render (storyboard's ``BoardRender``) holds its price as one ledger reservation
and makes a take per card it renders. When one of its takes ends, whether finished,
failed or cancelled (a cancelled render ends as its last take does), and none of its
takes is still under way, the render is over and the person who started it hears once,
in one line, instead of a line per card. Free animatic previews are board renders too
(holding nothing) and are told the same way. A take that belongs to no render, being no
board's or linked to a card before renders were recorded, is told about on its own
(notifications.take_ended).

Two of a render's takes ending at once in two workers: each locks the render's
reservation row first (the ledger already did, in the transaction that ends the take, to
close it), so the second to lock sees the first's end and is the one that tells
(PostgreSQL; on SQLite writers are one at a time anyway).
"""

from django.conf import settings
from django.db.models import F
from django.urls import reverse

from storyboard.models import BoardRender, CardTake
from studio.models import ACTIVE_STATUSES, LedgerEntry, Status

from . import notifications
from .models import NotificationKind

FAILURES = (Status.FAILED, Status.REFUSED, Status.EXPIRED)
ERROR_LIMIT = 120


def take_ended(sender, take_id: int, status: str, **kwargs) -> None:
    """The receiver of studio's take_ended: a board render's take goes to its news."""
    link = CardTake.objects.filter(take_id=take_id).values_list("render_id", flat=True)
    render_id = link.first()
    if render_id is None:
        notifications.take_ended(sender, take_id=take_id, status=status, **kwargs)
    else:
        render_ended(render_id)


def render_ended(render_id: int) -> None:
    """Tell whoever started the render, if it has just ended and is worth telling: it had
    failures, or ran long enough to be waited for (SLATE_NOTIFY_AFTER_SECONDS)."""
    render = (
        BoardRender.objects.filter(pk=render_id)
        .select_related("board__workspace")
        .only(
            "created_at",
            "created_by_id",
            "reservation_id",
            "board__title",
            "board__workspace__slug",
            "board__workspace__name",
        )
        .first()
    )
    if render is None:
        return
    # The ledger locked this row already, in this transaction: taken again here so that
    # telling once never rests on what the ledger happens to do.
    LedgerEntry.objects.select_for_update().only("pk").get(pk=render.reservation_id)
    rows = list(
        render.card_takes.order_by("card__position", "take_id").values(
            "card__position",
            status=F("take__status"),
            finished_at=F("take__finished_at"),
            error=F("take__error_message"),
        )
    )
    if not rows or any(row["status"] in ACTIVE_STATUSES for row in rows):
        return
    ready = sum(row["status"] == Status.COMPLETED for row in rows)
    failed = [row for row in rows if row["status"] in FAILURES]
    cancelled = len(rows) - ready - len(failed)
    if not ready and not failed:
        return  # cancelled, all of it: someone's own decision, no news
    ran = (max(row["finished_at"] for row in rows) - render.created_at).total_seconds()
    long = ran >= settings.SLATE_NOTIFY_AFTER_SECONDS
    maker = render.created_by_id
    if maker is None or (not failed and not long):
        return
    board = render.board
    if not notifications.is_member(maker, board.workspace_id):
        return
    text = summary(board.title, ready, failed, cancelled, ran)
    kind = NotificationKind.BOARD_FAILED if failed else NotificationKind.BOARD_FINISHED
    link = reverse("storyboard:board", args=[board.workspace.slug, board.pk])
    notifications.notify(maker, board.workspace_id, kind, text, link)
    if long:
        for user in notifications.emailed([maker], board.workspace_id):
            notifications.mail_on_commit(user.email, board.workspace.name, text, link)


def cards(count: int) -> str:
    return f"{count} card" if count == 1 else f"{count} cards"


def summary(title: str, ready: int, failed: list[dict], cancelled: int, ran: float) -> str:
    """“Board “Pitch” finished after 3 min: 5 cards ready.”, with failures named."""
    parts = [f"{cards(ready)} ready"] if ready else []
    if failed:
        parts.append(f"{len(failed)} failed")
    if cancelled:
        parts.append(f"{cancelled} cancelled")
    verb = "ended" if failed or cancelled else "finished"
    text = f"Board “{notifications.shorten(title, 60)}” {verb} after "
    text += f"{notifications.duration_text(ran)}: {', '.join(parts)}"
    first = failed[0] if failed else None
    if first is not None and first["error"]:
        number = first["card__position"] + 1
        text += f" (card {number}: {notifications.shorten(first['error'], ERROR_LIMIT)})"
    return text + "."
