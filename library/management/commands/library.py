"""The library from the shell: search takes, export them as a zip.

`library search QUERY [--tag T] [--model M] [--workspace SLUG] --json` and
`library export (--folder ID | --query Q) [--workspace SLUG] --out FILE.zip`.
"""

import json
from pathlib import Path

from django.contrib.auth.models import AnonymousUser

from library import export, gallery
from library.folders import Refused
from library.models import Folder
from studio import workspaces
from studio.management.cli import OneLineErrorsCommand


class Command(OneLineErrorsCommand):
    help = "The library from the shell: search takes, export a zip."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        search = sub.add_parser("search", help="takes whose prompt holds every word")
        search.add_argument("query")
        search.add_argument("--tag", default="")
        search.add_argument("--model", default="")
        search.add_argument("--limit", type=int, default=50)
        search.add_argument("--json", action="store_true", help="print one JSON object")
        out = sub.add_parser("export", help="takes as a zip with a manifest")
        what = out.add_mutually_exclusive_group(required=True)
        what.add_argument("--folder", type=int)
        what.add_argument("--query")
        out.add_argument("--out", required=True, help="the zip file to write")
        for action in sub.choices.values():
            action.add_argument("--workspace", default=None, help="slug (default: local)")
            action.error = lambda message: parser.error(message)

    def handle(self, *args, action, **options):
        workspace = self.workspace_named(options["workspace"])
        workspace = workspace or workspaces.default_workspace()
        try:
            getattr(self, f"_{action}")(workspace, options)
        except Refused as error:
            self.invalid(str(error))

    def _search(self, workspace, options):
        filters = gallery.Filters(q=options["query"], tag=options["tag"], model=options["model"])
        found = gallery.page(workspace, AnonymousUser(), filters)["takes"][: options["limit"]]
        rows = [
            {
                "id": t.pk,
                "title": t.title,
                "model": t.model,
                "status": t.status,
                "created_at": t.created_at.isoformat(),
            }
            for t in found
        ]
        if options["json"]:
            self.stdout.write(json.dumps({"takes": rows}))
        else:
            self.stdout.write("\n".join(f"{r['id']}\t{r['title']}" for r in rows) or "No takes.")

    def _export(self, workspace, options):
        folder = None
        if options["folder"] is not None:
            folder = Folder.objects.filter(workspace=workspace, pk=options["folder"]).first()
            if folder is None:
                raise Refused(f"no folder {options['folder']} in {workspace.slug}")
        filters = gallery.Filters(q=options["query"] or "", folder=folder)
        takes = gallery.everything_matching(workspace, AnonymousUser(), filters)
        stream = export.archive(takes)
        path = Path(options["out"])
        partial = path.with_name(path.name + ".part")
        with partial.open("wb") as handle:
            for chunk in stream:
                handle.write(chunk)
        partial.replace(path)  # a reader never sees half a zip
        self.stdout.write(f"Wrote {path} ({len(takes)} takes).")
