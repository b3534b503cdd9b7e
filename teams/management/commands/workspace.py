"""Workspaces from the shell: invite people, list members, set a role.

The shell is the install's own operator, so it acts without being a member; the rules that
protect a workspace (roles an invite may grant, its last owner) hold here as everywhere.
"""

import contextlib
import json
import sys

from django.conf import settings
from django.contrib.auth import get_user_model

from studio.management.cli import OneLineErrorsCommand
from studio.models import Role, Workspace
from teams import invites, members
from teams.models import INVITE_ROLES, Refused

# `make run` serves here; SLATE_PUBLIC_URL (or --base-url) names the address people can reach.
LOCAL_URL = "http://127.0.0.1:8000"


class Command(OneLineErrorsCommand):
    help = "A workspace's team from the shell: invite, members, role."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        invite = sub.add_parser("invite", help="make an invite link (or mail one with --email)")
        invite.add_argument("slug")
        invite.add_argument("--role", required=True, choices=[r.value for r in INVITE_ROLES])
        invite.add_argument("--expires", default="7d", help="12h, 7d, 2w… (default 7d)")
        invite.add_argument("--uses", type=int, default=1, help="how many people can join")
        invite.add_argument("--email", default="", help="mail a single-use link to this address")
        invite.add_argument(
            "--base-url",
            default="",
            help=f"the studio's address in the link (default: SLATE_PUBLIC_URL, else {LOCAL_URL})",
        )
        listing = sub.add_parser("members", help="who is in the workspace")
        listing.add_argument("slug")
        role = sub.add_parser("role", help="set a member's role")
        role.add_argument("slug")
        role.add_argument("user", help="their username")
        role.add_argument("role", choices=Role.values)
        for action in sub.choices.values():
            action.add_argument("--json", action="store_true", help="print one JSON object")
            # Looked up when called: create_parser makes parser.error one line after this runs.
            action.error = lambda message: parser.error(message)

    def handle(self, *args, action, slug, **options):
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            self.invalid(f"no workspace with the slug “{slug}”")
        try:
            result, text = getattr(self, f"_{action}")(workspace, options)
        except Refused as error:
            self.invalid(str(error))
        self.stdout.write(json.dumps(result) if options["json"] else text)

    def _invite(self, workspace, options):
        if options["email"] and options["uses"] != 1:
            self.invalid("--uses: an invite by email is for one person")
        base = options["base_url"] or settings.SLATE_PUBLIC_URL or LOCAL_URL
        expires_in = invites.parse_expiry(options["expires"])
        # The console mail backend (no mail server set) prints the message on stdout, where
        # it would spoil --json's one object: send that copy to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            if options["email"]:
                invite = invites.email_invite(
                    workspace,
                    email=options["email"],
                    role=options["role"],
                    expires_in=expires_in,
                    base=base,
                )
            else:
                invite = invites.create_invite(
                    workspace, role=options["role"], expires_in=expires_in, uses=options["uses"]
                )
        url = invites.invite_url(invite, base)
        result = {
            "workspace": workspace.slug,
            "url": url,
            "role": invite.role,
            "uses": invite.max_uses,
            "expires_at": invite.expires_at.isoformat(),
            "email": invite.email,
        }
        return result, url

    def _members(self, workspace, options):
        people = [
            {
                "username": m.user.get_username(),
                "email": m.user.email,
                "role": m.role,
                "joined": m.created_at.isoformat(),
                "last_active": m.last_active.isoformat() if m.last_active else None,
            }
            for m in members.members_of(workspace)
        ]
        width = max((len(p["username"]) for p in people), default=0)
        text = "\n".join(
            f"{p['username']:<{width}}  {p['role']:<6}  {p['last_active'] or 'never'}"
            for p in people
        )
        return {"workspace": workspace.slug, "members": people}, text

    def _role(self, workspace, options):
        username = options["user"]
        user = get_user_model().objects.filter(username=username).first()
        membership = user and workspace.memberships.filter(user=user).first()
        if membership is None:
            self.invalid(f"“{username}” is not a member of {workspace.slug}")
        changed = members.change_role(workspace, membership.pk, options["role"])
        result = {"workspace": workspace.slug, "username": username, "role": changed.role}
        role = changed.get_role_display().lower()
        return result, f"{username} is now {role} in {workspace.name}."
