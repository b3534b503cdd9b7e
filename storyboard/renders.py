"""Price, reserve and render a whole board: a take per card that needs one, or none at all.

The quote comes first; the render queues every card's take (each with its ledger hold)
in one transaction, so a board is reserved whole or not at all: a board that would pass a
budget cap is refused whole, its total named. The engine then renders the takes as it
renders any other; this module never waits on them.

Continuity: a card that continues the one before gets that card's finished chosen take's
last frame as its first frame. Until there is one, the card waits (named in the quote's
``waiting``, neither priced nor held) and the rest of the board renders: holding its price
while it waits an unknown time on another render would tie up budget, and the next render
of the board picks it up.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from studio import budgets, references, takes
from studio.images import Fit
from studio.models import ACTIVE_STATUSES, Status, Take
from studio.providers.endpoints import Target, find_target

from .boards import board_cards, link_take
from .models import Board, Card, CardTake


class BoardRefused(ValueError):
    """The board can't be rendered as it is; ``errors`` says why, card by card."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


@dataclass
class CardQuote:
    number: int
    card: Card
    estimate: Decimal | None
    # Continuity: the previous card's finished chosen take, whose last frame starts this one.
    continues_from: Take | None = None


@dataclass
class Quote:
    target: Target | None
    size: str
    cards: list[CardQuote] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: int = 0  # cards that already have a take from this provider and model
    # Cards that continue from a card with no finished take yet: not rendered (nor priced)
    # now, each with the reason; they render when the board is rendered again after it.
    waiting: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal | None:
        """The price of the whole render (None when some card's price is unknown)."""
        if any(quote.estimate is None for quote in self.cards):
            return None
        return sum((quote.estimate for quote in self.cards), Decimal("0"))


def made_by(take: Take, target: Target) -> bool:
    return take.provider == target.provider and (
        target.endpoint is None or take.model == target.info.model
    )


def rendering_on(card: Card, target: Target) -> bool:
    return any(
        made_by(link.take, target) and link.take.status in ACTIVE_STATUSES
        for link in card.card_takes.all()
    )


def needs_take(card: Card, target: Target) -> bool:
    """Whether rendering the board on ``target`` should make this card a take.

    On a real provider, a card needs one unless its chosen take was made there and finished
    or is on its way: an animatic preview (or a take from a model the board has left) never
    stands in for the real render. A free preview only fills cards with no usable take at
    all, so it never replaces a real one. Either way, a card with a take rendering on
    ``target`` now is left alone, so a double submit can't hold its price twice."""
    if rendering_on(card, target):
        return False
    chosen = card.chosen_take
    if not chosen or chosen.status not in (Status.COMPLETED, *ACTIVE_STATUSES):
        return True
    return target.endpoint is not None and not made_by(chosen, target)


def finished_take(card: Card) -> Take | None:
    """The card's chosen take when it is finished and has its video (what the cut uses)."""
    chosen = card.chosen_take
    if chosen and chosen.status == Status.COMPLETED and chosen.video:
        return chosen
    return None


def _continuity(
    board: Board, cards: list[Card], index: int, rendering: set[int]
) -> tuple[Take | None, str]:
    """For the card at ``index`` that continues the one before: the take whose last frame
    starts it, or why it must wait. ``rendering``: cards getting a new take in this render
    (their present take is about to be replaced, so nothing is taken from it)."""
    number, previous = index + 1, cards[index - 1]
    said = f"Card {number} continues from card {number - 1}"
    chosen = previous.chosen_take
    if chosen is None or chosen.workspace_id != board.workspace_id:  # never another's frame
        return None, f"{said}, which has no take yet"
    if previous.pk in rendering:
        return None, f"{said}, which gets a new take in this same render"
    source = finished_take(previous)
    if source is None:
        state = chosen.status
        why = "is still rendering" if state in ACTIVE_STATUSES else f"is {state}"
        return None, f"{said}, whose chosen take {why}"
    return source, ""


def quote(
    board: Board,
    provider: str | None = None,
    model: str | None = None,
    *,
    only: Card | None = None,
    user=None,
) -> Quote:
    """What rendering the board would cost, and what stands in its way. ``only``: that one
    card, asked for by name, so it gets a new take even if it has one (unless one is
    rendering on the same provider and model now). ``user``: whose caps the total must fit
    (the workspace's cap alone without one)."""
    cards = board_cards(board)
    provider = provider or board.provider
    target = find_target(board.workspace, provider, board.model if model is None else model)
    found = Quote(target=target, size=board.size)
    if not cards:
        found.errors.append("This board has no cards yet: add some, or paste a shot list.")
        return found
    if target is None:
        found.errors.append(
            f"This workspace has no provider “{provider}” with model “{model or board.model}”."
        )
        return found
    info = target.info
    if board.size not in info.size_values:
        if target.endpoint is None:  # the free preview renders the board's shape it can
            found.size = info.size_for("9:16" if _portrait(board.size) else "16:9") or (
                info.default_size
            )
        else:
            found.errors.append(
                f"{info.label} doesn't render {board.size}; it renders "
                f"{', '.join(info.size_values)}. Change the board's size."
            )
    allowed = ", ".join(str(s) for s in info.seconds)
    rendering: set[int] = set()
    for number, card in enumerate(cards, 1):
        if only is not None:
            if card.pk != only.pk:
                continue
            if rendering_on(card, target):
                found.errors.append(f"Card {number} is already rendering on {info.label}.")
                continue
        elif not needs_take(card, target):
            found.skipped += 1
            continue
        if card.seconds not in info.seconds:
            found.errors.append(
                f"Card {number} is {card.seconds} s; {info.label} makes clips of {allowed} seconds."
            )
        if card.shot().is_empty:
            found.errors.append(f"Card {number} is empty: describe its shot.")
        source = None
        if card.continues and number > 1:
            if not info.image_reference:
                found.errors.append(
                    f"Card {number} continues from card {number - 1}'s last frame; "
                    f"{info.label} takes no first frame. Turn continuity off for it, or pick "
                    "a model that takes one."
                )
                continue
            source, why = _continuity(board, cards, number - 1, rendering)
            if source is None:
                if only is not None:
                    found.errors.append(f"{why}: render card {number - 1} first.")
                else:
                    found.waiting.append(
                        f"{why}: it renders from that last frame when you render the board "
                        f"again once card {number - 1} has a finished take."
                    )
                continue
        elif card.reference_id and not info.image_reference:
            found.errors.append(f"Card {number} has a reference image; {info.label} takes none.")
        sound = info.audio
        estimate = info.estimate(found.size, card.seconds, sound)
        found.cards.append(CardQuote(number, card, estimate, continues_from=source))
        rendering.add(card.pk)
    if not found.cards and not found.errors:
        if found.waiting:
            found.errors.append("Nothing can render yet.")
        else:
            found.errors.append("Every card already has a take. Choose one per card, then cut.")
    if found.cards and not found.errors:
        what = "this card" if len(found.cards) == 1 else f"these {len(found.cards)} cards"
        try:
            budgets.precheck(board.workspace, user, found.total, what=what)
        except budgets.OverBudget as error:
            found.errors.append(str(error))
    return found


def _portrait(size: str) -> bool:
    width, _, height = size.partition("x")
    return width.isdigit() and height.isdigit() and int(height) > int(width)


def render_board(
    board: Board,
    *,
    user=None,
    provider: str | None = None,
    model: str | None = None,
    only: Card | None = None,
) -> list[Take]:
    """Queue a take for every card that needs one (``only``: for that card), each held in
    the ledger, in one transaction (all or nothing). Each new take becomes its card's
    chosen one."""
    found = quote(board, provider, model, only=only, user=user)
    if found.errors:
        raise BoardRefused(found.errors)
    try:
        return _queue(board, found, user)
    except budgets.OverBudget as error:  # spent by someone else since the quote
        raise BoardRefused([str(error)]) from error


def _first_frames(found: Quote) -> list[tuple[bytes | None, object, dict | None]]:
    """Each card's first frame, its source and how it was made: the previous card's last
    frame for a card that continues it, else the card's own reference image (fitted)."""
    frames = []
    for item in found.cards:
        card = item.card
        if item.continues_from is not None:
            frame = references.last_frame(item.continues_from, found.size)
            frames.append((frame, None, {"mode": "last-frame", "take": item.continues_from.pk}))
        elif card.reference_id:
            fit = Fit.from_values(card.reference_fit or {})
            frame = references.first_frame(card.reference, found.size, fit)
            frames.append((frame, card.reference, references.fit_record(fit)))
        else:
            frames.append((None, None, None))
    return frames


def _queue(board: Board, found: Quote, user) -> list[Take]:
    target = found.target
    queued = []
    frames = _first_frames(found)  # decoding and fitting happen before the transaction
    with transaction.atomic():
        for item, (reference, source, fit) in zip(found.cards, frames, strict=True):
            card = item.card
            take = takes.queue_take(
                board.workspace,
                card.shot(),
                provider=target.provider,
                model=target.info.model,
                size=found.size,
                seconds=card.seconds,
                created_by=user,
                reference=reference,
                reference_source=source,
                reference_fit=fit,
            )
            link_take(card, take)
            Card.objects.filter(pk=card.pk).update(chosen_take=take)
            queued.append(take)
    return queued


def cancel_board(board: Board) -> int:
    """Cancel every take of the board still queued or rendering; each one's hold is
    released (takes.cancel), finished ones keep their charge. Returns how many."""
    active = CardTake.objects.filter(
        card__board=board, take__status__in=ACTIVE_STATUSES
    ).values_list("take_id", flat=True)
    return sum(1 for take_id in list(active) if takes.cancel(take_id))
