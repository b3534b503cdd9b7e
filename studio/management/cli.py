"""Command-line conventions: invalid input is one line on stderr and exit code 2."""

import sys
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from studio.engine import sweep
from studio.models import Take, Workspace
from studio.prompts import SHOT_FIELDS, SHOT_HINTS, SHOT_LABELS
from studio.tasks import advance_take


def add_shot_arguments(parser) -> None:
    """--subject … --audio: every field of a shot, named and explained as the studio does."""
    for name in SHOT_FIELDS:
        parser.add_argument(
            f"--{name}", default="", help=f"{SHOT_LABELS[name].lower()}: {SHOT_HINTS[name]}"
        )


class OneLineErrorsCommand(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def error(message):
            # argparse would print the whole usage first; one line is enough.
            sys.stderr.write(f"error: {message}\n")
            sys.exit(2)

        parser.error = error
        return parser

    def invalid(self, message: str):
        sys.stderr.write(f"error: {message}\n")
        sys.exit(2)

    def workspace_named(self, slug: str | None) -> Workspace | None:
        """The workspace ``--workspace`` names (one line and exit 2 if none has that slug),
        or without one the install's Local studio (None until it exists)."""
        if not slug:
            return Workspace.objects.filter(is_default=True).first()
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            self.invalid(f"no workspace with the slug “{slug}”")
        return workspace


def see_through(take_id: int, timeout: float) -> Take | None:
    """Do the take's steps here, as a worker would, until it ends: the CLI needs no server.

    Steps a running studio's worker does meanwhile are fine: every step takes
    the take's lease first, so each runs once.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        take = Take.objects.select_related("workspace").get(pk=take_id)
        if take.is_terminal:
            return take
        sweep.sweep()  # a dead worker's lease runs out: the take is back in play
        if take.next_check_at is None or take.next_check_at <= timezone.now():
            advance_take.call(take_id)
        time.sleep(0.1)
    return None
