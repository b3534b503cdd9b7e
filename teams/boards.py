"""News of board renders: one notification when a board's cards have all ended.

The storyboard keeps no record of a render (it queues a take per card and forgets), so a
render is read off the takes: the board's takes that overlapped in time since the board
was last idle. When a take of a board ends and none of the board's takes is still active,
that stretch of work has ended, and the people who started it hear once, in one line —
instead of a line per card. A take that is no board's is told about as before
(notifications.take_ended).

Two of a board's takes ending at once in two workers: each locks the board's row first,
so the second to lock sees the first's end and is the one that tells (PostgreSQL; on
SQLite writers are one at a time anyway).
"""

from datetime import UTC, datetime

from django.conf import settings
from django.db.models import F
from django.urls import reverse

from storyboard.models import Board, CardTake
from studio.models import ACTIVE_STATUSES, Status

from . import notifications
from .models import NotificationKind

FAILURES = (Status.FAILED, Status.REFUSED, Status.EXPIRED)
ERROR_LIMIT = 120


def take_ended(sender, take_id: int, status: str, **kwargs) -> None:
    """The receiver of studio's take_ended: a board's take goes to the board's news."""
    board_id = CardTake.objects.filter(take_id=take_id).values_list("card__board_id", flat=True)
    board_id = board_id.first()
    if board_id is None:
        notifications.take_ended(sender, take_id=take_id, status=status, **kwargs)
    else:
        board_render_ended(board_id)


def latest_render(rows: list[dict]) -> list[dict]:
    """The rows (takes, oldest first) of the board's latest stretch of work: those made
    after the last moment none of its takes was active."""
    start, reach = 0, None
    never = datetime.max.replace(tzinfo=UTC)
    for index, row in enumerate(rows):
        if reach is not None and row["made_at"] > reach:
            start = index
        ended = row["finished_at"] or never
        reach = ended if reach is None else max(reach, ended)
    return rows[start:]


def board_render_ended(board_id: int) -> None:
    """Tell whoever rendered the board, if its render has just ended and is worth telling:
    it had failures, or ran long enough to be waited for (SLATE_NOTIFY_AFTER_SECONDS)."""
    board = (
        Board.objects.select_for_update(of=("self",))  # the board's row, not its workspace's
        .filter(pk=board_id)
        .select_related("workspace")
        .only("title", "workspace__slug", "workspace__name")
        .first()
    )
    if board is None:
        return
    rows = list(
        CardTake.objects.filter(card__board_id=board_id)
        .order_by("take__created_at", "take_id")
        .values(
            "card__position",
            status=F("take__status"),
            made_at=F("take__created_at"),
            finished_at=F("take__finished_at"),
            created_by=F("take__created_by_id"),
            error=F("take__error_message"),
        )
    )
    render = latest_render(rows)
    if not render or any(row["status"] in ACTIVE_STATUSES for row in render):
        return
    ready = sum(row["status"] == Status.COMPLETED for row in render)
    failed = [row for row in render if row["status"] in FAILURES]
    cancelled = len(render) - ready - len(failed)
    if not ready and not failed:
        return  # cancelled, all of it: someone's own decision, no news
    ran = (max(row["finished_at"] for row in render) - render[0]["made_at"]).total_seconds()
    long = ran >= settings.SLATE_NOTIFY_AFTER_SECONDS
    if not failed and not long:
        return
    text = summary(board.title, ready, failed, cancelled, ran)
    kind = NotificationKind.BOARD_FAILED if failed else NotificationKind.BOARD_FINISHED
    link = reverse("storyboard:board", args=[board.workspace.slug, board.pk])
    makers = sorted({row["created_by"] for row in render if row["created_by"] is not None})
    for user_id in makers:
        if not notifications.is_member(user_id, board.workspace_id):
            continue
        notifications.notify(user_id, board.workspace_id, kind, text, link)
    if long:
        for user in notifications.emailed(makers, board.workspace_id):
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
