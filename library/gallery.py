"""The gallery's question: which takes, in which order, which page. Filters come from the URL
(shareable, the back button works); pages are keyset (no OFFSET), so page 1,000 costs what
page 1 does and takes made while someone pages neither shift nor repeat."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import (
    BooleanField,
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from studio import card_notes, money
from studio.access import EPOCH, MICROSECOND
from studio.inputs import whole_number
from studio.models import Status, Take, Workspace

from .folders import Refused, get_folder
from .models import Folder, Review, Star, Tag, TakeFiling, TrashedTake
from .reviews import average_rating, rating_rank
from .search import search

PAGE_SIZE = 24
BULK_LIMIT = 5000  # "all matching" at once; more is a narrower filter's job
SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "rating": "Best rated first",
    "cost": "Most expensive first",
}
COST = Coalesce("charged", "estimate", Value(Decimal(0)), output_field=DecimalField())
RATINGS = range(1, 6)  # "at least N stars", N from the reviews' 1 to 5
LINEAGES = {"originals": "Originals only", "derived": "Derived only (remixes, extends…)"}
COST_LIMIT = Decimal("1000000")  # more than any take costs; beyond it a number is a typo


@dataclass
class Filters:
    q: str = ""
    model: str = ""
    status: str = ""
    since: date | None = None
    until: date | None = None
    tag: str = ""
    starred: bool = False
    rating: int | None = None  # the members' average rating is at least this
    min_cost: Decimal | None = None
    max_cost: Decimal | None = None
    lineage: str = ""  # "" any, or a key of LINEAGES
    folder: Folder | None = None
    trash: bool = False
    sort: str = "newest"
    problems: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return (
            bool(self.q or self.model or self.status or self.since or self.until or self.tag)
            or self.starred
            or self.rating is not None
            or self.min_cost is not None
            or self.max_cost is not None
            or bool(self.lineage)
        )


def _day(text: str, label: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        problems.append(f"“{text[:20]}” isn't a date for {label} (use YYYY-MM-DD); ignored.")
        return None


def _rating(text: str, problems: list[str]) -> int | None:
    if not text:
        return None
    number = whole_number(text)
    if number not in RATINGS:
        problems.append(f"“{text[:20]}” isn't a rating (use 1 to 5 stars); ignored.")
        return None
    return number


def _cost(text: str, label: str, problems: list[str], workspace) -> Decimal | None:
    """A cost bound as typed, in the workspace's currency."""
    text = money.unmarked(text, workspace)
    if not text:
        return None
    try:
        value = Decimal(text[:24])
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not 0 <= value <= COST_LIMIT:
        problems.append(
            f"“{text[:20]}” isn't a cost for {label} "
            f"(use {money.code_of(workspace)}, like 0.50); ignored."
        )
        return None
    return value


def parse_filters(workspace: Workspace, user, params) -> Filters:
    """The filters in a gallery URL, as ``user`` sees them. A folder of another workspace, or
    another member's personal folder, is a 404; other values that make no sense are ignored
    and said so in ``problems``."""
    problems: list[str] = []
    status = params.get("status", "")
    if status and status not in Status.values:
        problems.append(f"“{status[:20]}” isn't a status; ignored.")
        status = ""
    sort = params.get("sort", "newest")
    if sort not in SORTS:
        problems.append(f"“{sort[:20]}” isn't a sort order; showing newest first.")
        sort = "newest"
    since = _day(params.get("from", ""), "“from”", problems)
    until = _day(params.get("to", ""), "“to”", problems)
    if since and until and since > until:
        problems.append("“From” is after “to”: swapped them.")
        since, until = until, since
    min_cost = _cost(params.get("min_cost", ""), "“cost from”", problems, workspace)
    max_cost = _cost(params.get("max_cost", ""), "“cost up to”", problems, workspace)
    if min_cost is not None and max_cost is not None and min_cost > max_cost:
        problems.append("The lowest cost is above the highest: swapped them.")
        min_cost, max_cost = max_cost, min_cost
    lineage = params.get("lineage", "")
    if lineage and lineage not in LINEAGES:
        problems.append(f"“{lineage[:20]}” isn't a lineage (originals or derived); ignored.")
        lineage = ""
    folder_id = params.get("folder", "")
    return Filters(
        q=params.get("q", "")[:200].strip(),
        model=params.get("model", "")[:80].strip(),
        status=status,
        since=since,
        until=until,
        tag=params.get("tag", "")[:40].strip(),
        starred=params.get("starred") == "1",
        rating=_rating(params.get("rating", ""), problems),
        min_cost=min_cost,
        max_cost=max_cost,
        lineage=lineage,
        folder=get_folder(workspace, user, folder_id) if folder_id else None,
        trash=params.get("trash") == "1",
        sort=sort,
        problems=problems,
    )


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _starred_by(user):
    """Whether ``user`` starred the take (never, for the shell's operator: no user)."""
    if user is None or not user.is_authenticated:
        return Value(False, output_field=BooleanField())
    return Exists(Star.objects.filter(take=OuterRef("pk"), user=user))


def matching(workspace: Workspace, user, filters: Filters) -> QuerySet:
    """Every take of the workspace the filters let through (unordered)."""
    takes = Take.objects.filter(workspace=workspace)
    trashed = TrashedTake.objects.filter(take=OuterRef("pk"))
    if filters.trash:  # what can still be restored; purged takes are gone from the library
        takes = takes.filter(Exists(trashed.filter(purged_at=None)))
    else:
        takes = takes.exclude(Exists(trashed))
    if filters.model:
        takes = takes.filter(model=filters.model)
    if filters.status:
        takes = takes.filter(status=filters.status)
    if filters.since:
        takes = takes.filter(created_at__gte=_start_of(filters.since))
    if filters.until:
        takes = takes.filter(created_at__lt=_start_of(filters.until + timedelta(days=1)))
    if filters.tag:
        takes = takes.filter(tags__workspace=workspace, tags__name__iexact=filters.tag)
    if filters.starred:
        takes = takes.filter(_starred_by(user))
    if filters.folder:
        takes = takes.filter(filing__folder=filters.folder)
    if filters.rating is not None:
        takes = takes.alias(rated=average_rating()).filter(rated__gte=filters.rating)
    if filters.min_cost is not None or filters.max_cost is not None:
        # Bounds are typed in the workspace's currency; the ledger is in US dollars.
        takes = takes.alias(spent=COST)
        if filters.min_cost is not None:
            takes = takes.filter(spent__gte=money.to_usd(filters.min_cost, workspace))
        if filters.max_cost is not None:
            takes = takes.filter(spent__lte=money.to_usd(filters.max_cost, workspace))
    if filters.lineage:
        takes = takes.filter(parent__isnull=filters.lineage == "originals")
    return search(takes, filters.q)


def everything_matching(workspace: Workspace, user, filters: Filters) -> list[Take]:
    """Every take the filters let through, newest first, for "all N matching" actions."""
    found = list(
        matching(workspace, user, filters).order_by("-created_at", "-id")[: BULK_LIMIT + 1]
    )
    if len(found) > BULK_LIMIT:
        raise Refused(f"That is over {BULK_LIMIT} takes: narrow the filters first.")
    return found


def cursor_of(take: Take, sort: str) -> str:
    if sort == "cost":
        return f"{take.cost}~{take.pk}"
    if sort == "rating":
        return f"{take.rating_rank}~{take.pk}"
    return f"{(take.created_at - EPOCH) // MICROSECOND}-{take.pk}"


def _after(takes: QuerySet, sort: str, cursor: str) -> QuerySet | None:
    if sort == "cost":
        value, _, pk = cursor.partition("~")
        try:
            cost = Decimal(value[:24])
        except InvalidOperation:
            return None
        pk = whole_number(pk)
        if pk is None or not cost.is_finite():
            return None
        return takes.filter(cost__lte=cost).filter(Q(cost__lt=cost) | Q(cost=cost, pk__lt=pk))
    micros, _, pk = cursor.partition("-")
    micros, pk = whole_number(micros), whole_number(pk)
    if micros is None or pk is None:
        return None
    try:
        at = EPOCH + micros * MICROSECOND
    except OverflowError:
        return None
    # The plain bound beside the OR lets the database start its index scan at the cursor
    # instead of walking every newer row (SQLite won't split the OR into ranges itself).
    if sort == "oldest":
        return takes.filter(created_at__gte=at).filter(
            Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk)
        )
    return takes.filter(created_at__lte=at).filter(
        Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk)
    )


ORDER = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "rating": ("-rating_rank", "-id"),  # unrated takes rank 0: after every rated one
    "cost": ("-cost", "-id"),
}


def _rated_first(takes: QuerySet, after: str, limit: int) -> tuple[list[Take], bool]:
    """Up to ``limit`` of ``takes`` after the cursor ``after``, best rated first: the rated
    ones by rank (ties: newer id first), then the unrated ones (rank 0) by id, newest first.

    Two queries rather than one order over every take: only the rated takes are ranked (a
    correlated average each), and the unrated ones come straight off the id order, so a page
    costs what the workspace's rated takes do, not what all its takes do."""
    rated_ids = Review.objects.filter(rating__isnull=False).values("take_id")
    rank = pk = None
    bad_cursor = False
    if after:
        parsed = [whole_number(part) for part in after.partition("~")[::2]]
        if None in parsed:
            bad_cursor = True
        else:
            rank, pk = parsed
    found: list[Take] = []
    if rank is None or rank > 0:
        rated = takes.filter(pk__in=rated_ids).annotate(rating_rank=rating_rank())
        if rank is not None:
            rated = rated.filter(rating_rank__lte=rank).filter(
                Q(rating_rank__lt=rank) | Q(rating_rank=rank, pk__lt=pk)
            )
        found = list(rated.order_by(*ORDER["rating"])[:limit])
    if len(found) < limit:
        unrated = takes.exclude(pk__in=rated_ids).annotate(rating_rank=Value(0))
        if rank == 0:
            unrated = unrated.filter(pk__lt=pk)
        found += list(unrated.order_by("-id")[: limit - len(found)])
    return found, bad_cursor


def page(workspace: Workspace, user, filters: Filters, after: str = "") -> dict:
    """One page of matching takes, with each take's tags, folder, the user's star and its
    card's notes (the members' average rating, the circle: ``card_notes``): ``takes``,
    ``next`` (the cursor after this page, "" on the last) and ``bad_cursor``.
    A fixed number of queries whatever the page size. A take filed in another member's
    personal folder shows as unfiled: the take is the workspace's, the folder isn't."""
    takes = matching(workspace, user, filters).annotate(
        cost=COST,
        starred=_starred_by(user),
        average_rating=average_rating(),  # the list view's column
    )
    takes = takes.select_related("trashed")
    if filters.sort == "rating":
        found, bad_cursor = _rated_first(takes, after, PAGE_SIZE + 1)
    else:
        bad_cursor = False
        if after:
            narrowed = _after(takes, filters.sort, after)
            bad_cursor = narrowed is None
            takes = takes if narrowed is None else narrowed
        found = list(takes.order_by(*ORDER[filters.sort])[: PAGE_SIZE + 1])
    prefetch_related_objects(
        found,
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch("filing", queryset=filings_seen_by(user, workspace)),
    )
    following = ""
    if len(found) > PAGE_SIZE:
        found = found[:PAGE_SIZE]
        following = cursor_of(found[-1], filters.sort)
    card_notes.attach(found)
    return {"takes": found, "next": following, "bad_cursor": bad_cursor}


def filings_seen_by(user, workspace: Workspace) -> QuerySet:
    visible = Folder.objects.visible_to(user, workspace)
    return TakeFiling.objects.filter(folder__in=visible).select_related("folder")


def models_used(workspace: Workspace) -> list[str]:
    return list(
        Take.objects.filter(workspace=workspace)
        .exclude(model="")
        .order_by("model")
        .values_list("model", flat=True)
        .distinct()
    )
