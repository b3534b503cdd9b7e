"""The team audit log: written in the same transaction as the change it records."""

import csv
import io
from collections.abc import Iterable, Iterator

from studio.models import Workspace

from .models import AuditAction, AuditEntry

AUDIT_PAGE = 200


def record(
    workspace: Workspace,
    action: AuditAction,
    *,
    by=None,
    target: str = "",
    detail: str = "",
    address: str | None = None,
) -> AuditEntry:
    """``by``: the user who acted (None: the install's shell); ``address``: their client's."""
    return AuditEntry.objects.create(
        workspace=workspace,
        action=action,
        actor=by,
        actor_name=by.get_username() if by else "",
        target=target[:254],
        detail=detail[:200],
        address=address or None,
    )


def entries(workspace: Workspace, limit: int | None = AUDIT_PAGE):
    found = AuditEntry.objects.filter(workspace=workspace)
    return found[:limit] if limit else found


CSV_HEADER = ("time", "action", "by", "member or invite", "detail", "address")


def csv_lines(found: Iterable[AuditEntry]) -> Iterator[str]:
    """The entries as CSV, a line at a time (the shell is named "shell")."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in (CSV_HEADER, *(_row(entry) for entry in found)):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _row(entry: AuditEntry) -> tuple:
    return (
        entry.created_at.isoformat(),
        entry.action,
        entry.actor_name or "shell",
        _safe(entry.target),
        _safe(entry.detail),
        entry.address or "",
    )


def _safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: usernames are user input.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
