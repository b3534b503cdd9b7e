"""Price, reserve and render a whole board: a take per card that needs one, or none at all.

The quote comes first; the render holds the whole price in the ledger as one
reservation (checked against the budget caps as one amount: a board that would pass a cap
is refused whole, its total named) and queues every card's take, each drawing its own
hold from the reservation, in one transaction: reserved whole or not at all. The engine
then renders the takes as it renders any other, as many at once as each endpoint's
concurrency and rate limit allow; each finished take is charged once, each failed,
refused or cancelled one released, by the take's own lifecycle, and the ledger closes the
reservation (what no take drew released) in the transaction that ends its last take.
This module never waits on them.

Continuity: a card that continues the one before gets that card's finished chosen take's
last frame as its first frame. Until there is one, the card waits (named in the quote's
``waiting``, neither priced nor held) and the rest of the board renders: holding its price
while it waits an unknown time on another render would tie up budget, and the next render
of the board picks it up.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from studio import budgets, ledger, references, takes
from studio.images import Fit
from studio.models import ACTIVE_STATUSES, Status, Take
from studio.providers.endpoints import Target, find_target

from .boards import board_cards, length_problem, link_take
from .models import Board, BoardRender, Card, CardTake

# Takes per card in one render: a few to choose from, not a batch job.
MAX_VARIATIONS = 4


class BoardRefused(ValueError):
    """The board can't be rendered as it is; ``errors`` says why, card by card."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


@dataclass
class CardQuote:
    number: int
    card: Card
    estimate: Decimal | None  # the price of one take of it
    # Continuity: the previous card's finished chosen take, whose last frame starts this one.
    continues_from: Take | None = None
    variations: int = 1  # takes made of it

    @property
    def price(self) -> Decimal | None:
        """The card's price in this render: a take's price times its variations."""
        return None if self.estimate is None else self.estimate * self.variations


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
    variations: int = 1  # takes per card

    @property
    def total(self) -> Decimal | None:
        """The price of the whole render, cards × variations × each one's price from the
        catalogue (None when some card's price is unknown)."""
        if any(quote.estimate is None for quote in self.cards):
            return None
        return sum((quote.price for quote in self.cards), Decimal("0"))

    @property
    def free(self) -> bool:
        """Nothing to pay (the animatic, a model priced at 0): nothing is held either."""
        return bool(self.cards) and self.total == 0

    @property
    def what(self) -> str:
        """What the total pays for, as a refusal names it."""
        cards = "this card" if len(self.cards) == 1 else f"these {len(self.cards)} cards"
        return cards if self.variations == 1 else f"{cards} × {self.variations} variations"


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
    ``target`` now is left alone, so a double submit can't hold its price twice. A card
    whose chosen take starts from an older take of the card before (its continuity gone
    stale: boards.mark_stale_continuity) needs a new one, but a free preview only
    replaces a preview."""
    if rendering_on(card, target):
        return False
    chosen = card.chosen_take
    if not chosen or chosen.status not in (Status.COMPLETED, *ACTIVE_STATUSES):
        return True
    if card.continuity_stale:
        return target.endpoint is not None or made_by(chosen, target)
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
    variations: int = 1,
) -> Quote:
    """What rendering the board would cost, and what stands in its way. ``only``: that one
    card, asked for by name, so it gets a new take even if it has one (unless one is
    rendering on the same provider and model now). ``user``: whose caps the total must fit
    (the workspace's cap alone without one). ``variations``: takes per card."""
    cards = board_cards(board)
    provider = provider or board.provider
    target = find_target(board.workspace, provider, board.model if model is None else model)
    found = Quote(target=target, size=board.size, variations=variations)
    if not 1 <= variations <= MAX_VARIATIONS:
        found.errors.append(f"Variations: 1 to {MAX_VARIATIONS} takes per card.")
        return found
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
        if problem := length_problem(target, number, card.seconds):
            found.errors.append(problem)
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
        found.cards.append(CardQuote(number, card, estimate, source, variations))
        rendering.add(card.pk)
    if not found.cards and not found.errors:
        if found.waiting:
            found.errors.append("Nothing can render yet.")
        else:
            found.errors.append("Every card already has a take. Choose one per card, then cut.")
    if found.cards and not found.errors:
        try:
            budgets.precheck(board.workspace, user, found.total, what=found.what)
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
    variations: int = 1,
) -> list[Take]:
    """Hold the price of every card that needs a take (``only``: of that card) as one
    reservation and queue their takes (``variations`` per card), each drawing its hold from
    it, in one transaction (all or nothing). A card's first new take becomes its chosen
    one."""
    found = quote(board, provider, model, only=only, user=user, variations=variations)
    if found.errors:
        raise BoardRefused(found.errors)
    try:
        return _queue(board, found, user)
    except budgets.OverBudget as error:  # spent by someone else since the quote
        raise BoardRefused([str(error)]) from error
    except ledger.ReservationSpent as error:  # a price that changed since the quote
        changed = "The price changed while the board was queued: render it again."
        raise BoardRefused([changed]) from error


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
    price = sum((item.price or Decimal("0") for item in found.cards), Decimal("0"))
    with transaction.atomic():
        reservation = ledger.reserve(board.workspace_id, user, price, what=found.what)
        render = BoardRender.objects.create(
            board=board,
            created_by=user if user is not None and user.is_authenticated else None,
            provider=target.provider,
            model=target.info.model,
            reservation=reservation,
        )
        for item, (reference, source, fit) in zip(found.cards, frames, strict=True):
            card = item.card
            made = [
                takes.queue_take(
                    board.workspace,
                    card.shot(),
                    provider=target.provider,
                    model=target.info.model,
                    size=found.size,
                    seconds=card.seconds,
                    sound=target.info.audio,  # as quoted
                    created_by=user,
                    reference=reference,
                    reference_source=source,
                    reference_fit=fit,
                    drawn_from=reservation,
                )
                for _ in range(item.variations)
            ]
            for take in made:
                link_take(card, take, render=render)
            Card.objects.filter(pk=card.pk).update(chosen_take=made[0])
            queued += made
    return queued


def cancel_board(board: Board) -> int:
    """Cancel every take of the board still queued or rendering; each one's hold is
    released (takes.cancel), finished ones keep their charge, and a render's reservation
    is closed as its last take ends (one a provider is still stopping, once it has).
    Returns how many."""
    BoardRender.objects.filter(board=board, cancelled_at=None).filter(
        card_takes__take__status__in=ACTIVE_STATUSES
    ).update(cancelled_at=timezone.now())
    active = CardTake.objects.filter(
        card__board=board, take__status__in=ACTIVE_STATUSES
    ).values_list("take_id", flat=True)
    return sum(1 for take_id in list(active) if takes.cancel(take_id))


@dataclass(frozen=True)
class RenderAccount:
    """A board render and its money, as the board page and ``board render --json`` show it."""

    render: BoardRender
    account: ledger.Reservation
    cards: int

    def as_json(self) -> dict:
        money = self.account
        return {
            "id": self.render.pk,
            "cards": self.cards,
            "held": f"{money.held:.2f}",
            "spent": f"{money.spent:.2f}",
            "released": f"{money.released:.2f}",
            "pending": f"{money.pending:.2f}",
            "finished": money.closed,
            "cancelled": self.render.cancelled_at is not None,
        }


def account_of(render: BoardRender) -> RenderAccount:
    cards = render.card_takes.count()
    return RenderAccount(render, ledger.account(render.reservation), cards)


def latest_render(board: Board) -> RenderAccount | None:
    """The board's last paid render and its money (three queries; one without a render),
    or None. A free preview holds nothing, so it doesn't hide the paid render's account."""
    paid = board.renders.filter(reservation__amount__gt=0)
    render = paid.select_related("reservation").first()
    return account_of(render) if render else None
