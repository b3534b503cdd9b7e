"""Reference images from the shell: `manage.py reference add PATH [--workspace SLUG] [--json]`."""

import json
from pathlib import Path

from studio import images, references, uploads, workspaces
from studio.management.cli import OneLineErrorsCommand
from studio.models import Workspace


class Command(OneLineErrorsCommand):
    help = "Add a reference image (first frame) to a workspace, through the same checks as uploads."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="check, clean and keep an image")
        add.add_argument("path")
        add.add_argument("--workspace", default=None, help="workspace slug (default: local)")
        add.add_argument("--json", action="store_true", help="print one JSON object")
        add.error = parser.error

    def handle(self, *args, action, path, workspace, **options):
        slug = workspace
        space = Workspace.objects.filter(slug=slug).first() if slug else None
        if slug and space is None:
            self.invalid(f"no workspace with the slug “{slug}”")
        file = Path(path)
        limit = uploads.REFERENCE_LIMIT
        try:
            # A file's size is known: refuse it without reading a byte.
            size = file.stat().st_size if file.is_file() else 0
            if problem := uploads.over_limit("image", size, limit):
                self.invalid(problem)
            data = images.read_at_most(file, limit)
        except OSError as error:
            self.invalid(f"can't read {file.name}: {error.strerror}")
        if len(data) > limit:  # a device or a pipe, read as far as the limit
            self.invalid(f"The image is over {uploads.megabytes(limit)}, the limit.")
        try:
            normalized = images.normalize(data)  # first: a refused image creates no workspace
        except images.ImageRejected as error:
            self.invalid(str(error))
        space = space or workspaces.default_workspace()
        reference = references.keep(space, normalized, file.name)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "id": reference.pk,
                        "width": reference.width,
                        "height": reference.height,
                        "format": reference.source_format,
                        "label": reference.label,
                        "workspace": space.slug,
                    }
                )
            )
        else:
            self.stdout.write(
                f"Reference {reference.pk}: {reference.label} "
                f"({reference.width}×{reference.height}, was {reference.source_format})"
            )
