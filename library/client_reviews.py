"""Client review links: someone without an account, holding a review link, picks the take
they prefer and leaves comments (at a moment of the take, if they like). They see only what
the link shares, never costs or other work, and can't generate anything."""

import re
from decimal import Decimal

from django.db import transaction

from studio.models import Take

from .folders import Refused
from .models import CLIENT_COMMENT_LIMIT, REVIEWER_NAME_LIMIT, ClientComment, ClientPick, ShareLink

TIMECODE = re.compile(r"^(?:(\d{1,3}):)?(\d{1,5})(?:\.(\d{1,2}))?$")


def clean_reviewer(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise Refused("Tell us your name first, so the team knows who chose.")
    if len(name) > REVIEWER_NAME_LIMIT:
        raise Refused(f"Names are at most {REVIEWER_NAME_LIMIT} characters.")
    return name


def timecode(text: str, take: Take) -> Decimal | None:
    """ "1:05", "65" or "65.5" as seconds into the take; "" is none; past its end is refused."""
    text = str(text or "").strip()
    if not text:
        return None
    match = TIMECODE.match(text)
    if not match:
        raise Refused("Write the moment as seconds (12) or minutes:seconds (0:12).")
    minutes, seconds, fraction = match.groups()
    value = Decimal(int(minutes or 0) * 60 + int(seconds)) + Decimal(f"0.{fraction or 0}")
    length = (take.probe or {}).get("duration") or take.seconds
    if value > Decimal(str(length)):
        raise Refused(f"That moment is past the end of the take ({length} s).")
    return value


def pick(link: ShareLink, reviewer: str, take: Take) -> ClientPick:
    """The reviewer's choice on this link (a new pick replaces their earlier one)."""
    reviewer = clean_reviewer(reviewer)
    with transaction.atomic():
        chosen, _ = ClientPick.objects.update_or_create(
            link=link, reviewer=reviewer, defaults={"take": take}
        )
    return chosen


def comment(link: ShareLink, reviewer: str, take: Take, text: str, at: str = "") -> ClientComment:
    reviewer = clean_reviewer(reviewer)
    text = str(text or "").strip()
    if not text:
        raise Refused("Write a comment first.")
    if len(text) > CLIENT_COMMENT_LIMIT:
        raise Refused(f"Comments are at most {CLIENT_COMMENT_LIMIT} characters.")
    moment = timecode(at, take)
    return ClientComment.objects.create(
        link=link, reviewer=reviewer, take=take, text=text, at_seconds=moment
    )
