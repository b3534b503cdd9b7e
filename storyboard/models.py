"""Boards and their cards: the plan of a multi-shot video (storyboard plans and assembles).

A card's blank shot field inherits the board's style (``Board.style``); the takes made
for a card are linked here (``CardTake``), since studio knows nothing of cards.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from studio.models import LedgerEntry, Reference, Take, Workspace
from studio.prompts import SHOT_FIELDS, SHOT_LABELS, Shot

MAX_CARD_SECONDS = 60


class Transition(models.TextChoices):
    CUT = "cut", "Cut"
    CROSSFADE = "crossfade", "Crossfade"


def cut_path(instance: "Board", filename: str) -> str:
    return f"boards/{instance.workspace_id}/board-{instance.pk}-cut.mp4"


class Board(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="boards")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    title = models.CharField(max_length=120)
    notes = models.TextField(blank=True)
    provider = models.CharField(max_length=40, default="animatic")
    model = models.CharField(max_length=80, blank=True)
    size = models.CharField(max_length=16, default="1280x720")
    # Shot fields every card inherits where its own is blank: {"lighting": "…", …}.
    style = models.JSONField(default=dict, blank=True)
    # Bumped by every change of the card order: a reorder built on an older view is refused.
    revision = models.PositiveIntegerField(default=0)
    cut = models.FileField(upload_to=cut_path, blank=True, max_length=255)
    cut_info = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def style_value(self, name: str) -> str:
        return str(self.style.get(name) or "")


class Card(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="cards")
    position = models.PositiveIntegerField()
    subject = models.TextField(blank=True)
    motion = models.TextField(blank=True)
    camera = models.TextField(blank=True)
    lighting = models.TextField(blank=True)
    atmosphere = models.TextField(blank=True)
    prompt = models.TextField(blank=True)
    dialogue = models.TextField(blank=True)
    audio = models.TextField(blank=True)
    seconds = models.PositiveSmallIntegerField(default=4)
    reference = models.ForeignKey(
        Reference, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reference_fit = models.JSONField(default=dict, blank=True)
    transition = models.CharField(max_length=10, choices=Transition.choices, default=Transition.CUT)
    transition_seconds = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("0.5"))
    # Continuity: the card starts from the previous card's chosen take's last frame (its
    # first-frame reference when rendered, in place of its own reference image).
    continues = models.BooleanField(default=False)
    chosen_take = models.ForeignKey(
        Take, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    takes = models.ManyToManyField(Take, through="CardTake", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["board", "position"], name="one_card_per_position")
        ]

    def __str__(self) -> str:
        return f"Card {self.position + 1} of board {self.board_id}"

    def own_shot(self) -> Shot:
        return Shot.from_mapping({name: getattr(self, name) for name in SHOT_FIELDS})

    def shot(self) -> Shot:
        """The shot as rendered: the card's own fields, the board style where they're blank."""
        return Shot.from_mapping(
            {name: getattr(self, name) or self.board.style_value(name) for name in SHOT_FIELDS}
        )

    def field_rows(self) -> list[tuple[str, str, bool]]:
        """(label, value, inherited) for every field with a value, as the board shows them."""
        rows = []
        for name in SHOT_FIELDS:
            own = getattr(self, name)
            if own:
                rows.append((SHOT_LABELS[name], own, False))
            elif inherited := self.board.style_value(name):
                rows.append((SHOT_LABELS[name], inherited, True))
        return rows

    @property
    def title(self) -> str:
        text = " ".join((self.subject or self.prompt or self.motion).split())
        if not text:
            return "Empty card"
        return text if len(text) <= 60 else text[:59].rstrip() + "…"


class BoardRender(models.Model):
    """One "Render board" (or "Render this card"): its whole price held in the ledger as
    one reservation, from which the take of each card it renders draws its own hold. It is
    over when the reservation is closed: the ledger closes it as its last take ends."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="renders")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=80, blank=True)
    reservation = models.OneToOneField(LedgerEntry, on_delete=models.RESTRICT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"render {self.pk} of board {self.board_id}"


class CardTake(models.Model):
    """A take made for a card (studio can't know about cards, so the link lives here)."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="card_takes")
    take = models.OneToOneField(Take, on_delete=models.CASCADE, related_name="+")
    # The board render that made it (none for takes made before board renders were held whole).
    render = models.ForeignKey(
        BoardRender, null=True, blank=True, on_delete=models.SET_NULL, related_name="card_takes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"take {self.take_id} of card {self.card_id}"
