"""Command-line conventions: invalid input is one line on stderr and exit code 2."""

import sys

from django.core.management.base import BaseCommand

from studio.prompts import SHOT_FIELDS, SHOT_HINTS, SHOT_LABELS


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
