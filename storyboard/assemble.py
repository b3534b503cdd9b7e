"""Cut a board: check every card has a finished chosen take, join them, keep the film."""

import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from studio.media import probe
from studio.models import Status

from . import boards, cut
from .boards import board_cards, running_time
from .models import Board


class CutRefused(ValueError):
    pass


def _local_path(field_file, stack: ExitStack) -> Path:
    try:
        return Path(field_file.path)
    except NotImplementedError:  # remote storage: a scratch copy to read from
        scratch = Path(settings.SCRATCH_DIR)
        scratch.mkdir(parents=True, exist_ok=True)
        handle = stack.enter_context(tempfile.NamedTemporaryFile(suffix=".mp4", dir=scratch))  # noqa: SIM115 (closed with the stack)
        with field_file.open("rb") as source:
            shutil.copyfileobj(source, handle)
        handle.flush()
        return Path(handle.name)


def ready_cards(board: Board) -> list:
    """The board's cards, each with a finished chosen take; refused (CutRefused) for an
    empty board or when a card has none (those cards are named)."""
    cards = board_cards(board)
    if not cards:
        raise CutRefused("This board has no cards to cut.")
    missing = [
        str(number)
        for number, card in enumerate(cards, 1)
        if not card.chosen_take
        or card.chosen_take.status != Status.COMPLETED
        or not card.chosen_take.video
    ]
    if missing:
        which = "Card " + missing[0] if len(missing) == 1 else "Cards " + ", ".join(missing)
        raise CutRefused(
            f"{which} {'has' if len(missing) == 1 else 'have'} no finished chosen take yet: "
            "render the board (or choose a finished take) first."
        )
    return cards


def make_cut(board: Board) -> dict:
    """Join the chosen takes in card order into the board's cut; returns its facts.

    Refused (CutRefused, nothing changed) for an empty board or when a card has no
    finished chosen take (those cards are named)."""
    cards = ready_cards(board)
    scratch = Path(settings.SCRATCH_DIR)
    scratch.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        paths = [_local_path(card.chosen_take.video, stack) for card in cards]
        out = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=scratch))) / "cut.mp4"
        titles = [f"{number}. {card.title}" for number, card in enumerate(cards, 1)]
        how = cut.join(paths, out, boards.crossfades(cards), titles)
        facts = probe(out)
        info = {
            "method": how,
            "duration": cut.duration(out),
            "planned": running_time(cards),
            "width": facts["width"],
            "height": facts["height"],
            "cards": [
                {"card": card.pk, "take": card.chosen_take_id, "seconds": card.seconds}
                for card in cards
            ],
            "takes": [card.chosen_take_id for card in cards],
            "made_at": timezone.now().isoformat(),
        }
        with transaction.atomic():
            old = board.cut.name
            with out.open("rb") as handle:
                board.cut.save("cut.mp4", File(handle), save=False)
            board.cut_info = info
            board.save(update_fields=["cut", "cut_info", "updated_at"])
            if old and old != board.cut.name:
                transaction.on_commit(lambda: board.cut.storage.delete(old))
    return info
