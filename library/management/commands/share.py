"""Share links from the shell: create, list, revoke.

The shell is the install's own operator: it needs no membership. Links are made on
SLATE_PUBLIC_URL (else http://127.0.0.1:8000, where `make run` serves). A member's personal
folder is shared only with `--as` its owner: without it, only shared folders are found.
"""

import json
import os
import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from library import folders, shares
from library.folders import Refused
from library.models import ShareLink
from studio.management.cli import OneLineErrorsCommand
from studio.models import Take

LOCAL_URL = "http://127.0.0.1:8000"
DURATION = re.compile(r"([1-9][0-9]{0,3})([hdw])")
UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def expires_at(text: str):
    if text == "never":
        return None
    match = DURATION.fullmatch(text)
    if not match:
        raise Refused(f"--expires: “{text}” is not a duration: write 12h, 7d, 2w or never")
    return timezone.now() + timedelta(**{UNITS[match[2]]: int(match[1])})


def describe(link: ShareLink) -> dict:
    return {
        "id": link.pk,
        "workspace": link.workspace.slug,
        "take": link.take_id,
        "folder": link.folder_id,
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        "download": link.allow_download,
        "prompt": link.show_prompt,
        "review": link.review,
        "password": bool(link.password_hash),
        "views": link.views,
        "last_viewed_at": link.last_viewed_at.isoformat() if link.last_viewed_at else None,
    }


class Command(OneLineErrorsCommand):
    help = "Share links from the shell: create, list, revoke."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="a read-only link to a take or a folder")
        what = create.add_mutually_exclusive_group(required=True)
        what.add_argument("--take", type=int)
        what.add_argument("--folder", type=int)
        create.add_argument("--expires", default="7d", help="12h, 7d, 2w… or never (default 7d)")
        create.add_argument("--download", action="store_true", help="allow downloading the MP4")
        create.add_argument("--prompt", action="store_true", help="show the prompt")
        create.add_argument("--review", action="store_true", help="visitors pick and comment")
        create.add_argument(
            "--as", dest="as_user", metavar="USERNAME", help="the owner of a personal --folder"
        )
        secret = create.add_mutually_exclusive_group()
        secret.add_argument(
            "--password-env", metavar="VAR", help="require the password held in this variable"
        )
        secret.add_argument(
            "--password", help="require this password (other users see it in the process list)"
        )
        sub.add_parser("list", help="live links, newest first")
        revoke = sub.add_parser("revoke", help="stop a link at once")
        revoke.add_argument("id", type=int)
        for action in sub.choices.values():
            action.add_argument("--json", action="store_true", help="print one JSON object")
            action.error = lambda message: parser.error(message)

    def handle(self, *args, action, **options):
        try:
            result, text = getattr(self, f"_{action}")(options)
        except Refused as error:
            self.invalid(str(error))
        self.stdout.write(json.dumps(result) if options["json"] else text)

    def _create(self, options):
        take = folder = by = None
        if options["take"] is not None:
            take = Take.objects.filter(pk=options["take"]).first()
            if take is None:
                raise Refused(f"no take {options['take']}")
        else:
            if name := options["as_user"]:
                by = get_user_model().objects.filter(username=name).first()
                if by is None:
                    raise Refused(f"--as: no user “{name}”")
            folder = folders.shell_folder(options["folder"], by)
        password = options["password"] or ""
        if name := options["password_env"]:
            password = os.environ.get(name, "")
            if not password:
                raise Refused(f"--password-env: {name} is not set or empty")
        link, token = shares.make(
            (take or folder).workspace,
            by=by,
            take=take,
            folder=folder,
            expires_at=expires_at(options["expires"]),
            allow_download=options["download"],
            show_prompt=options["prompt"],
            review=options["review"],
            password=password,
        )
        base = settings.SLATE_PUBLIC_URL or LOCAL_URL
        url = base.rstrip("/") + reverse("library_public:share", args=[token])
        result = {**describe(link), "url": url}
        return result, f"{url}\n(link {link.pk}; shown once: Slate keeps only its fingerprint)"

    def _list(self, options):
        links = list(
            ShareLink.objects.filter(revoked_at=None)
            .exclude(expires_at__lte=timezone.now())
            .select_related("workspace")
        )
        rows = [describe(link) for link in links]
        text = "\n".join(
            f"{r['id']}\t{r['workspace']}\t"
            f"{'take ' + str(r['take']) if r['take'] else 'folder ' + str(r['folder'])}\t"
            f"expires {r['expires_at'] or 'never'}\t{r['views']} views"
            for r in rows
        )
        return {"links": rows}, text or "No live share links."

    def _revoke(self, options):
        link = ShareLink.objects.filter(pk=options["id"]).first()
        if link is None:
            raise Refused(f"no share link {options['id']}")
        shares.revoke(link)
        return {"id": link.pk, "revoked": True}, f"Revoked link {link.pk}."
