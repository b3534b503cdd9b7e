"""The library from the shell: search takes, export them as a zip.

`library search QUERY [--tag T] [--model M] [--workspace SLUG] --json`,
`library export (--folder ID [--as USERNAME] | --query Q) [--workspace SLUG] --out FILE.zip`
(a personal folder only with --as its owner) and
`library purge-trash [--workspace SLUG] [--everything] --json` (for cron: by default every
workspace's takes trashed more than SLATE_TRASH_DAYS ago).
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from library import export, folders, gallery, trash
from library.folders import Refused
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
        out.add_argument(
            "--as", dest="as_user", metavar="USERNAME", help="the owner of a personal --folder"
        )
        purge = sub.add_parser(
            "purge-trash", help="purge takes trashed more than SLATE_TRASH_DAYS ago"
        )
        purge.add_argument(
            "--everything", action="store_true", help="the whole trash now, however recent"
        )
        purge.add_argument("--json", action="store_true", help="print one JSON object")
        for name, action in sub.choices.items():
            default = "every workspace" if name == "purge-trash" else "local"
            action.add_argument("--workspace", default=None, help=f"slug (default: {default})")
            action.error = lambda message: parser.error(message)

    def handle(self, *args, action, **options):
        if action == "purge-trash":
            return self._purge_trash(options)
        workspace = self.workspace_named(options["workspace"])
        workspace = workspace or workspaces.default_workspace()
        try:
            getattr(self, f"_{action}")(workspace, options)
        except Refused as error:
            self.invalid(str(error))

    def user_named(self, username: str | None):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise Refused(f"--as: no user “{username}”")
        return user

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
            user = self.user_named(options["as_user"])
            folder = folders.shell_folder(options["folder"], user, workspace)
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

    def _purge_trash(self, options):
        workspace = self.workspace_named(options["workspace"]) if options["workspace"] else None
        if options["everything"]:
            if workspace is None:
                self.invalid("--everything empties one workspace's trash: add --workspace SLUG")
            purged = trash.empty_trash(workspace)
        else:
            purged = trash.purge_overdue(workspace)
        if options["json"]:
            result = {"purged": purged.takes, "files": purged.files, "waiting": purged.waiting}
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(str(purged))
