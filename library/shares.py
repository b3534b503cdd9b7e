"""Share links: a take or a folder, read-only, for people without an account.

The token is 256 random bits shown once; only its SHA-256 is stored, so a copy of the
database opens nothing. Lookup is by that hash (an index, not a comparison an attacker can
time). An unknown, malformed, expired or revoked token all get the same answer (``Gone``),
so a visitor learns nothing about which links exist. Every request checks again: a revoked
link stops working on the very next request, a half-watched video included.
"""

import hashlib
import secrets
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from studio.models import Membership, Take, Workspace

from .folders import Refused
from .models import Folder, ShareLink, TakeFiling, TrashedTake

TOKEN_BYTES = 32
# Links that don't work, per client address per minute, before it is told to wait. 256-bit
# tokens can't be guessed anyway; this keeps a scanner from hammering the database.
MISSES_PER_MINUTE = 60
EXPIRY_DAYS = {"1": 1, "7": 7, "30": 30, "": None}  # "" never expires (until revoked)
PASSWORD_MIN, PASSWORD_MAX = 8, 128


class Gone(Exception):
    """No link here: never made, mistyped, expired or revoked (one answer for all)."""


class WrongPassword(Exception):
    """The password given isn't the link's; nothing was unlocked."""


class LockedOut(Exception):
    """Too many wrong passwords for this link: no tries until ``until``."""

    def __init__(self, until: datetime):
        super().__init__(until)
        self.until = until

    @property
    def minutes(self) -> int:
        return max(1, -(-int((self.until - timezone.now()).total_seconds()) // 60))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def expiry_from(text: str):
    if text not in EXPIRY_DAYS:
        raise Refused("Choose when the link expires: 1, 7 or 30 days, or never.")
    days = EXPIRY_DAYS[text]
    return timezone.now() + timedelta(days=days) if days else None


def clean_password(text: str) -> str:
    """A link's password as typed ("" for none). Kept exactly: spaces are characters too."""
    text = str(text or "")
    if not text:
        return ""
    if not text.strip():
        raise Refused("A password can't be only spaces: leave it empty for a link without one.")
    if not PASSWORD_MIN <= len(text) <= PASSWORD_MAX:
        raise Refused(f"A link's password is {PASSWORD_MIN} to {PASSWORD_MAX} characters long.")
    return text


def create(
    membership: Membership,
    *,
    take: Take | None = None,
    folder: Folder | None = None,
    expires: str = "7",
    show_prompt: bool = False,
    allow_download: bool = False,
    review: bool = False,
    password: str = "",
) -> tuple[ShareLink, str]:
    """A member's new link (``expires`` as the form offers it) and its token."""
    return make(
        membership.workspace,
        by=membership.user,
        take=take,
        folder=folder,
        expires_at=expiry_from(expires),
        show_prompt=show_prompt,
        allow_download=allow_download,
        review=review,
        password=password,
    )


def unshareable(take: Take) -> str:
    """Why ``take`` can't be shared yet ("" when it can)."""
    if not take.video:
        return "This take has no video yet: share it once it has finished."
    if TrashedTake.objects.filter(take=take).exists():
        return "This take is in the trash: restore it before sharing it."
    return ""


def make(
    workspace: Workspace,
    *,
    by=None,
    take: Take | None = None,
    folder: Folder | None = None,
    expires_at: datetime | None = None,
    show_prompt: bool = False,
    allow_download: bool = False,
    review: bool = False,
    password: str = "",
) -> tuple[ShareLink, str]:
    """A new link and its token (the only time the token exists outside a browser)."""
    password = clean_password(password)
    if (take is None) == (folder is None):
        raise Refused("Share one take or one folder.")
    if (take or folder).workspace_id != workspace.pk:
        raise Refused("That isn't this workspace's to share.")
    if folder is not None and folder.owner_id is not None and folder.owner_id != by_id(by):
        raise Refused("A personal folder is shared by its owner only.")
    if take is not None and (why := unshareable(take)):
        raise Refused(why)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink.objects.create(
        workspace=workspace,
        take=take,
        folder=folder,
        token_hash=digest(token),
        show_prompt=show_prompt,
        allow_download=allow_download,
        review=review,
        password_hash=make_password(password) if password else "",
        created_by=by,
        expires_at=expires_at,
    )
    return link, token


def by_id(user):
    return user.pk if user is not None and user.is_authenticated else None


def url_of(request, token: str) -> str:
    """The link's address: on SLATE_PUBLIC_URL when set, else where ``request`` came to."""
    path = reverse("library_public:share", args=[token])
    if settings.SLATE_PUBLIC_URL:
        return settings.SLATE_PUBLIC_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


def resolve(token: str) -> ShareLink:
    """The live link behind ``token``, or ``Gone``."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise Gone
    link = (
        ShareLink.objects.select_related("take", "folder", "workspace")
        .filter(token_hash=digest(token), revoked_at=None)
        .first()
    )
    if link is None or (link.expires_at and link.expires_at <= timezone.now()):
        raise Gone
    return link


def _unlock_key(link: ShareLink) -> str:
    return f"slate_share_unlocked:{link.pk}"


def _seal(link: ShareLink) -> str:
    # Tied to the password's hash: a session unlocked under one password opens nothing
    # once the link's password is another.
    return salted_hmac("slate.share-unlock", link.password_hash, algorithm="sha256").hexdigest()


def is_locked(link: ShareLink, session) -> bool:
    """Whether ``link`` wants a password this browser session hasn't given yet."""
    if not link.password_hash:
        return False
    return not constant_time_compare(session.get(_unlock_key(link), ""), _seal(link))


def locked_out(link: ShareLink) -> LockedOut | None:
    """The lockout ``link``'s password form is under, if any (to say so before a try)."""
    until = link.password_locked_until
    return LockedOut(until) if until and until > timezone.now() else None


def unlock(link: ShareLink, password: str, session) -> None:
    """Open ``link`` for ``session`` if ``password`` is its password.

    Wrong tries are counted on the link's row (locked while counting, so parallel guesses
    each count); the limit-th in a row locks the form for the lockout window, and the count
    starts again after it. A right password clears the count."""
    now = timezone.now()
    limit = settings.SLATE_SHARE_PASSWORD_ATTEMPTS
    with transaction.atomic():
        row = ShareLink.objects.select_for_update().get(pk=link.pk)
        if row.password_locked_until and row.password_locked_until > now:
            raise LockedOut(row.password_locked_until)
        password = str(password or "")
        right = len(password) <= PASSWORD_MAX and check_password(password, row.password_hash)
        if right:
            if row.password_failures:
                ShareLink.objects.filter(pk=row.pk).update(password_failures=0)
        else:
            failures, until = row.password_failures + 1, None
            if failures >= limit:
                failures = 0
                until = now + timedelta(minutes=settings.SLATE_SHARE_PASSWORD_LOCKOUT_MINUTES)
            ShareLink.objects.filter(pk=row.pk).update(
                password_failures=failures, password_locked_until=until
            )
    if not right:
        if until:
            raise LockedOut(until)
        raise WrongPassword
    session[_unlock_key(link)] = _seal(link)


def _miss_key(address: str) -> str:
    return f"slate:share-misses:{address}:{int(time.time() // 60)}"


def throttled(address: str) -> bool:
    return (cache.get(_miss_key(address)) or 0) >= MISSES_PER_MINUTE


def count_miss(address: str) -> None:
    key = _miss_key(address)
    if not cache.add(key, 1, timeout=120):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=120)


def count_view(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1, last_viewed_at=timezone.now())


def shared_takes(link: ShareLink) -> list[Take]:
    """What the link shows: its take, or the finished, untrashed takes filed in its folder."""
    trashed = TrashedTake.objects.values("take_id")
    if link.take_id:
        takes = Take.objects.filter(pk=link.take_id)
    else:
        filed = TakeFiling.objects.filter(folder_id=link.folder_id).values("take_id")
        takes = Take.objects.filter(pk__in=filed, workspace_id=link.workspace_id)
    return list(takes.exclude(pk__in=trashed).exclude(video="").order_by("-created_at", "-id"))


def shared_take(link: ShareLink, take_id: int) -> Take:
    for take in shared_takes(link):
        if take.pk == take_id:
            return take
    raise Gone


def revoke(link: ShareLink) -> None:
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk, revoked_at=None).update(revoked_at=timezone.now())


def links_seen_by(user, workspace):
    """The workspace's links but those of another member's personal folders (never listed,
    never revoked by anyone but their owner: they'd name a folder nobody else sees)."""
    links = ShareLink.objects.filter(workspace=workspace)
    return links.filter(Q(folder=None) | Q(folder__owner=None) | Q(folder__owner_id=by_id(user)))


def active_links(workspace, user):
    now = timezone.now()
    return (
        links_seen_by(user, workspace)
        .filter(revoked_at=None)
        .exclude(expires_at__lte=now)
        .select_related("take", "folder", "created_by")
        .prefetch_related("picks", "comments")
    )
