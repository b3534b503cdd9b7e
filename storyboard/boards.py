"""What people do with a board: cards in order, the board style, choosing takes, warnings.

Every change of the card order locks the board row first (``_locked``), so two people
reordering at once are served one after the other and positions stay 0..n-1, each once.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, F, PositiveIntegerField, Prefetch, When
from django.http import Http404

from studio import access
from studio.models import ACTIVE_STATUSES, Membership, Take
from studio.prompts import SHOT_FIELDS, Shot
from studio.providers.catalogue import ModelInfo, animatic
from studio.providers.endpoints import Target, find_target

from .models import MAX_CARD_SECONDS, Board, Card, CardTake, Transition

# About 4-5 key moments make 20 s; past this many cards, consistency suffers (PRODUCT.md).
MAX_CARDS_ADVISED = 8
# The most cards a board holds: a plan, not a film's worth of shots.
MAX_CARDS = 100

CARD_COPY_FIELDS = (
    *SHOT_FIELDS,
    "seconds",
    "reference",
    "reference_fit",
    "transition",
    "continues",
)


class StaleOrder(ValueError):
    """A reorder built on a view of the board that has changed since."""


class BoardFull(ValueError):
    pass


def get_board(user, slug: str, board_id: int, *, edit: bool = False) -> tuple[Board, Membership]:
    """A board of the workspace ``slug`` (404 for outsiders and other workspaces' boards,
    403 for viewers asking to change it)."""
    membership = access.get_membership(user, slug, edit=edit)
    board = Board.objects.filter(pk=board_id, workspace_id=membership.workspace_id).first()
    if board is None:
        raise Http404("No such board.")
    board.workspace = membership.workspace
    return board, membership


def get_card(user, slug: str, card_id: int, *, edit: bool = False) -> tuple[Card, Membership]:
    membership = access.get_membership(user, slug, edit=edit)
    card = (
        Card.objects.select_related("board")
        .filter(pk=card_id, board__workspace_id=membership.workspace_id)
        .first()
    )
    if card is None:
        raise Http404("No such card.")
    card.board.workspace = membership.workspace
    return card, membership


def target_of(board: Board) -> Target | None:
    return find_target(board.workspace, board.provider, board.model)


def info_of(board: Board) -> ModelInfo:
    target = target_of(board)
    return target.info if target else animatic()


def renders_any_length(target: Target | None) -> bool:
    """Slate's own animatic renders a card at its own length (1 to MAX_CARD_SECONDS), so a
    board's pacing previews as written; a provider's model makes only the lengths it lists.
    A board whose model is gone (``None``) falls back to the animatic, as ``info_of`` does."""
    return target is None or target.endpoint is None


def renders_length(target: Target | None, seconds: int | None) -> bool:
    """Whether the board's model (``target``) can render a card ``seconds`` long."""
    if seconds is None:
        return False
    if renders_any_length(target):
        return 1 <= seconds <= MAX_CARD_SECONDS
    return seconds in target.info.seconds


def length_problem(target: Target | None, number: int, seconds: int) -> str:
    """Why card ``number`` can't be rendered ``seconds`` long ("" when it can)."""
    if renders_length(target, seconds):
        return ""
    info = target.info if target else animatic()
    if renders_any_length(target):
        return f"Card {number} is {seconds} s; a card lasts 1 to {MAX_CARD_SECONDS} s."
    longest = max(info.seconds)
    if seconds > longest:
        return (
            f"Card {number} is {seconds} s; {info.label} makes clips of at most "
            f"{longest} s. Split it into cards of their own."
        )
    allowed = ", ".join(str(s) for s in info.seconds)
    return f"Card {number} is {seconds} s; {info.label} makes {allowed} s clips. Pick one of those."


def create_board(workspace, title: str, *, user=None, **settings) -> Board:
    return Board.objects.create(workspace=workspace, created_by=user, title=title, **settings)


BOARD_SETTINGS = ("title", "notes", "provider", "model", "size")
# How a card's reference is fitted to the frame, as the composer's reference panel sends it.
FIT_KEYS = ("fit", "focus_x", "focus_y", "pad", "pad_color")


def update_board(board: Board, **settings) -> None:
    """Title, notes and the provider, model and size the cards render with (validated)."""
    for name in BOARD_SETTINGS:
        setattr(board, name, settings[name])
    board.save(update_fields=[*BOARD_SETTINGS, "updated_at"])


def save_card(
    card: Card,
    shot: Shot,
    *,
    seconds: int,
    reference=None,
    reference_fit: dict | None = None,
    transition: str = Transition.CUT,
    transition_seconds=None,
    continues: bool = False,
) -> None:
    """A card's own shot (blank fields inherit the board style), length, reference,
    transition into the next card and whether it continues the one before (validated
    input)."""
    for name, value in shot.as_dict().items():
        setattr(card, name, value)
    card.seconds = seconds
    card.reference = reference
    card.reference_fit = (reference_fit or {}) if reference else {}
    card.transition = transition
    if transition_seconds is not None:
        card.transition_seconds = transition_seconds
    card.continues = continues
    card.save()


def set_style(board: Board, style: dict) -> None:
    """The board style: shot fields every card inherits where its own is blank."""
    shot = Shot.from_mapping(style)
    board.style = {name: value for name, value in shot.as_dict().items() if value}
    board.save(update_fields=["style", "updated_at"])


def board_cards(board: Board, *, takes: bool = True) -> list[Card]:
    """The cards in order with their chosen take and (``takes``) all their takes: two
    queries whatever the size (one without the takes)."""
    cards = board.cards.select_related("chosen_take")
    if takes:
        links = CardTake.objects.select_related("take").order_by("-take__created_at", "-id")
        cards = cards.prefetch_related(Prefetch("card_takes", queryset=links))
    cards = list(cards)
    for card in cards:
        card.board = board
    mark_stale_continuity(cards)
    return cards


def continued_from(take: Take | None) -> int | None:
    """The take whose last frame ``take`` started from (continuity), if it did."""
    made = (take.reference_fit or {}) if take is not None else {}
    return made.get("take") if made.get("mode") == "last-frame" else None


def mark_stale_continuity(cards: list[Card]) -> None:
    """Set ``continuity_stale`` on each card (in board order): whether it continues the
    card before and its chosen take started from a take that is no longer that card's
    chosen one (chosen again, or re-rendered since). No queries."""
    previous = None
    for card in cards:
        source = continued_from(card.chosen_take) if card.continues else None
        card.continuity_stale = bool(
            previous is not None and source is not None and source != previous.chosen_take_id
        )
        previous = card


def cards_rendering(board: Board) -> int:
    """How many of the board's cards have a take queued or rendering (one query)."""
    active = CardTake.objects.filter(card__board=board, take__status__in=ACTIVE_STATUSES)
    return active.values("card_id").distinct().count()


def _locked(board_id: int) -> Board:
    return Board.objects.select_for_update().get(pk=board_id)


def _renumber(board: Board, ordered_ids: list[int]) -> None:
    """Give the cards positions 0..n-1 in ``ordered_ids`` order (inside the board's lock).

    Two bulk updates, whatever the number of cards: the (board, position) constraint is
    checked row by row, so every card first moves out of the way (past every position in
    use) to its place plus an offset, then all shift down by that offset together."""
    if ordered_ids:
        offset = len(ordered_ids) + 5 * MAX_CARDS  # past add_cards' parking places too
        cards = Card.objects.filter(board_id=board.pk, pk__in=ordered_ids)
        places = [
            When(pk=card_id, then=offset + index) for index, card_id in enumerate(ordered_ids)
        ]
        cards.update(position=Case(*places, output_field=PositiveIntegerField()))
        cards.update(position=F("position") - offset)
    Board.objects.filter(pk=board.pk).update(revision=board.revision + 1)
    board.revision += 1


def _order(board: Board) -> list[int]:
    return list(board.cards.order_by("position", "id").values_list("pk", flat=True))


def add_cards(board: Board, cards: list[dict], *, at: int | None = None) -> list[Card]:
    """Add cards (shot fields, seconds…) at position ``at`` (the end without one), in one
    transaction: all or none."""
    with transaction.atomic():
        locked = _locked(board.pk)
        order = _order(locked)
        if len(order) + len(cards) > MAX_CARDS:
            raise BoardFull(f"A board holds at most {MAX_CARDS} cards; this one has {len(order)}.")
        at = len(order) if at is None else max(0, min(at, len(order)))
        # Out of _renumber's way (it parks cards at n + MAX_CARDS + 1 …).
        made = [
            Card.objects.create(board=locked, position=4 * MAX_CARDS + index, **values)
            for index, values in enumerate(cards)
        ]
        _renumber(locked, order[:at] + [card.pk for card in made] + order[at:])
        board.revision = locked.revision
    for card in made:
        card.refresh_from_db(fields=["position"])
    return made


def duplicate_card(card: Card) -> Card:
    values = {name: getattr(card, name) for name in CARD_COPY_FIELDS}
    values["transition_seconds"] = card.transition_seconds
    return add_cards(card.board, [values], at=card.position + 1)[0]


def delete_card(card: Card) -> None:
    with transaction.atomic():
        board = _locked(card.board_id)
        Card.objects.filter(pk=card.pk).delete()
        _renumber(board, _order(board))


def move_card(card: Card, delta: int) -> None:
    """Move a card ``delta`` places (-1: earlier, 1: later); at an end it stays."""
    with transaction.atomic():
        board = _locked(card.board_id)
        order = _order(board)
        if card.pk not in order:
            raise Http404("No such card.")
        index = order.index(card.pk)
        to = max(0, min(index + delta, len(order) - 1))
        if to != index:
            order.insert(to, order.pop(index))
            _renumber(board, order)


def reorder(board: Board, card_ids: list[int], revision: int) -> None:
    """Put the cards in ``card_ids`` order, as the person saw the board at ``revision``.

    Refused (StaleOrder, nothing changed) when the board's order changed since that view
    or the ids aren't exactly its cards."""
    with transaction.atomic():
        locked = _locked(board.pk)
        order = _order(locked)
        if revision != locked.revision or sorted(card_ids) != sorted(order):
            raise StaleOrder(
                "Someone changed this board's cards while you were moving them: here is the "
                "board as it is now. Move the card again."
            )
        _renumber(locked, card_ids)
        board.revision = locked.revision


def link_take(card: Card, take: Take, *, render=None) -> None:
    CardTake.objects.create(card=card, take=take, render=render)


def choose(card: Card, take_id: int | None) -> None:
    """Make one of the card's takes its chosen one (None: no chosen take)."""
    if take_id is not None and not CardTake.objects.filter(card=card, take_id=take_id).exists():
        raise Http404("That take wasn't made for this card.")
    Card.objects.filter(pk=card.pk).update(chosen_take_id=take_id)
    card.chosen_take_id = take_id


@dataclass(frozen=True)
class Slot:
    """A card's place on the timeline."""

    card: Card
    start: float
    seconds: int

    @property
    def end(self) -> float:
        return self.start + self.seconds


def crossfades(cards: list[Card]) -> list[float]:
    """The overlap in seconds between each card and the next (0 for a cut); a crossfade
    takes at most half of the card it leaves."""
    return [
        min(float(card.transition_seconds), card.seconds / 2)
        if card.transition == Transition.CROSSFADE
        else 0.0
        for card in cards[:-1]
    ]


def timeline(cards: list[Card]) -> list[Slot]:
    """Where each card starts: one after another, a crossfade starting the next card its
    length early (the cut does the same)."""
    slots, at = [], 0.0
    for card, overlap in zip(cards, [*crossfades(cards), 0.0][: len(cards)], strict=True):
        slots.append(Slot(card, at, card.seconds))
        at += card.seconds - overlap
    return slots


def running_time(cards: list[Card]) -> float:
    slots = timeline(cards)
    return slots[-1].end if slots else 0.0


def timecode(seconds: float) -> str:
    whole = int(round(seconds * 100))
    minutes, rest = divmod(whole, 6000)
    return f"{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


def warnings(board: Board, cards: list[Card]) -> list[str]:
    """What the facts about multi-shot videos say of this board (advice, not errors)."""
    found = []
    if len(cards) > MAX_CARDS_ADVISED:
        found.append(
            f"{len(cards)} cards: more than {MAX_CARDS_ADVISED} hurts consistency between shots. "
            "About 4–5 key moments make 20 s; make a long story as several boards and join them."
        )
    target = target_of(board)
    for number, card in enumerate(cards, 1):
        if problem := length_problem(target, number, card.seconds):
            found.append(problem)
        if card.shot().is_empty:
            found.append(f"Card {number} is empty: describe its shot.")
    return found


def check_seconds(value) -> int:
    seconds = int(value)
    if not 1 <= seconds <= MAX_CARD_SECONDS:
        raise ValueError(f"A card lasts 1 to {MAX_CARD_SECONDS} seconds.")
    return seconds
