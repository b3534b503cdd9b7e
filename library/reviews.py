"""What people say about takes: reviews (a rating and three passes) and the circled take.

Business rules here; views stay thin. Each change is one transaction, and after it
commits the takes' notes are pushed to every page showing them (``live.notes_changed``).
"""

from django.db import transaction
from django.db.models import (
    Avg,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from studio import live
from studio.models import Status, Take

from .models import PASSES, Circle, Review


class ReviewRefused(ValueError):
    """Input a review or a circle can't take; the message says why. Nothing was saved."""


def _reviewable(take: Take) -> None:
    if take.status != Status.COMPLETED:
        raise ReviewRefused(
            f"Take {take.pk} is {take.get_status_display().lower()}: only a completed take "
            "can be reviewed or circled."
        )


def save_review(take: Take, reviewer, *, rating: int | None, passes: dict) -> Review:
    """The reviewer's review of ``take``, made or replaced. ``passes``: for each of
    PASSES, (True/False/None, note)."""
    _reviewable(take)
    if rating is not None and not 1 <= rating <= 5:
        raise ReviewRefused(f"A rating is from 1 to 5, not {rating}.")
    unknown = set(passes) - set(PASSES)
    if unknown:
        raise ReviewRefused(f"The passes are {', '.join(PASSES)}; not {', '.join(unknown)}.")
    values = {"rating": rating}
    for name, (ok, note) in passes.items():
        values[f"{name}_ok"] = ok
        values[f"{name}_note"] = note.strip()
    with transaction.atomic():
        review, _ = Review.objects.update_or_create(take=take, reviewer=reviewer, defaults=values)
        live.notes_changed([take.pk])
    return review


def circle(take: Take, user) -> Circle:
    """Mark ``take`` as the chosen one of its siblings (a sibling circled before is not
    any more)."""
    _reviewable(take)
    with transaction.atomic():
        changed = [take.pk]
        if take.parent_id:
            siblings = Circle.objects.filter(parent_id=take.parent_id).exclude(take=take)
            changed += siblings.values_list("take_id", flat=True)
            siblings.delete()
        found, _ = Circle.objects.update_or_create(
            take=take, defaults={"parent_id": take.parent_id, "circled_by": user}
        )
        live.notes_changed(changed)
    return found


def uncircle(take: Take) -> None:
    with transaction.atomic():
        Circle.objects.filter(take=take).delete()
        live.notes_changed([take.pk])


def summaries(take_ids) -> dict[int, dict]:
    """For each take: its average rating, how many reviews, and whether it is circled.
    Two queries, whatever the number of takes."""
    take_ids = list(take_ids)
    rows = (
        Review.objects.filter(take_id__in=take_ids)
        .values("take_id")
        .annotate(average=Avg("rating"), reviews=Count("id"))
    )
    found = {take_id: {"average": None, "reviews": 0, "circled": False} for take_id in take_ids}
    for row in rows:
        found[row["take_id"]].update(average=row["average"], reviews=row["reviews"])
    for take_id in Circle.objects.filter(take_id__in=take_ids).values_list("take_id", flat=True):
        found[take_id]["circled"] = True
    return found


def average_rating():
    """The members' average rating of the take (None when nobody rated it), as a
    subquery to annotate takes with."""
    ratings = (
        Review.objects.filter(take=OuterRef("pk"), rating__isnull=False)
        .order_by()
        .values("take")
        .annotate(average=Avg("rating"))
        .values("average")
    )
    return Subquery(ratings)


RANK_SCALE = 10_000  # the average to four decimals, as a whole number


def rating_rank():
    """The members' average rating of the take as a whole number (10,000 × the average,
    rounded down), 0 when nobody rated it: what the gallery sorts by. A whole number, not the
    average itself, so a page's cursor holds the exact value the database compares (a float
    average would not round-trip on every database), and unrated takes come after every
    rated one."""
    ranks = (
        Review.objects.filter(take=OuterRef("pk"), rating__isnull=False)
        .order_by()
        .values("take")
        .annotate(
            rank=ExpressionWrapper(
                Sum("rating") * RANK_SCALE / Count("rating"), output_field=IntegerField()
            )
        )
        .values("rank")
    )
    return Coalesce(Subquery(ranks, output_field=IntegerField()), Value(0))


def card_notes(take_ids) -> dict[int, list[tuple[str, str]]]:
    """What a take's card in the studio says of its reviews (studio.card_notes): the
    average rating and the circle. One query, whatever the number of takes."""
    rows = (
        Take.objects.filter(pk__in=list(take_ids))
        .annotate(
            average=average_rating(), circled=Exists(Circle.objects.filter(take=OuterRef("pk")))
        )
        .values_list("pk", "average", "circled")
    )
    notes: dict[int, list[tuple[str, str]]] = {}
    for take_id, average, circled in rows:
        notes[take_id] = []
        if average is not None:
            notes[take_id].append(("rating", f"{average:.1f} ★"))
        if circled:
            notes[take_id].append(("circled", "Circled"))
    return notes
