"""A workspace's budget from the shell: set the monthly cap and members' own caps, or show it.

    manage.py budget set SLUG --monthly 500 [--member alice --monthly 50] [--json]
    manage.py budget show SLUG [--json]

With --member and two --monthly, the first is the workspace's cap and the second the
member's; with --member and one, only the member's cap changes. "none" removes a cap.
The shell acts as the install's operator: no membership needed, each change audited.
"""

import json

from django.contrib.auth import get_user_model

from studio import budgets as caps
from studio import money
from studio.budgets import BudgetInvalid
from studio.management.cli import OneLineErrorsCommand
from studio.models import Workspace
from teams import budgets


def _money(amount) -> str | None:
    return None if amount is None else str(amount)


def _typed(text: str) -> str:
    return "" if text.strip().lower() in ("none", "") else text


class Command(OneLineErrorsCommand):
    help = "A workspace's monthly budget from the shell: set caps, or show them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        setting = sub.add_parser("set", help="set the workspace's or a member's monthly cap")
        setting.add_argument("slug")
        setting.add_argument(
            "--monthly",
            action="append",
            default=[],
            help="a monthly cap in the workspace's currency (none: no cap); see --member",
        )
        setting.add_argument("--member", default="", help="a member's username")
        setting.add_argument("--thresholds", default=None, help="alert percents, e.g. 50,80,100")
        setting.add_argument("--time-zone", default=None, help="months begin here, e.g. UTC")
        showing = sub.add_parser("show", help="the month's caps and spend")
        showing.add_argument("slug")
        for action in sub.choices.values():
            action.add_argument("--json", action="store_true", help="print one JSON object")
            action.error = lambda message: parser.error(message)

    def handle(self, *args, action, slug, **options):
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            self.invalid(f"no workspace with the slug “{slug}”")
        try:
            if action == "set":
                self._set(workspace, options)
        except BudgetInvalid as error:
            self.invalid(str(error))
        result = summary(workspace)
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        found = caps.overview(workspace)

        def shown(amount) -> str:
            return money.format(amount, workspace)

        cap = f"cap {shown(found['cap'])}" if found["cap"] is not None else "no cap"
        spent = shown(found["spent"])
        lines = [f"{workspace.name}, {result['month']}: {spent} spent or held; {cap}"]
        lines += [
            f"  {m['user'].get_username()}: {shown(m['spent'])}; "
            f"cap {shown(m['cap']) if m['cap'] is not None else 'none'}"
            for m in found["members"]
        ]
        self.stdout.write("\n".join(lines))

    def _set(self, workspace: Workspace, options) -> None:
        monthly, member = options["monthly"], options["member"]
        if not monthly and options["thresholds"] is None and options["time_zone"] is None:
            self.invalid("set needs --monthly AMOUNT (or --thresholds, --time-zone)")
        if len(monthly) > (2 if member else 1):
            self.invalid("--monthly: once for the workspace, once more after --member")
        if member and not monthly:
            self.invalid("--member needs its --monthly AMOUNT")
        user = None
        if member:
            user = get_user_model().objects.filter(username=member).first()
            if user is None or not workspace.memberships.filter(user=user).exists():
                self.invalid(f"“{member}” is not a member of {workspace.slug}")
        # Check every value before saving any, so a bad one stores nothing.
        for text in monthly:
            budgets.optional_amount(_typed(text), workspace)
        workspace_cap = monthly[0] if monthly and (not member or len(monthly) == 2) else None
        if (
            workspace_cap is not None
            or options["thresholds"] is not None
            or options["time_zone"] is not None
        ):
            budget = caps.budget_for(workspace)
            current = "" if budget is None or budget.monthly_cap is None else budget.monthly_cap
            budgets.change_budget(
                workspace,
                monthly=_typed(workspace_cap) if workspace_cap is not None else str(current),
                thresholds=options["thresholds"],
                time_zone=options["time_zone"],
            )
        if user is not None:
            budgets.change_member_cap(workspace, user, _typed(monthly[-1]))


def summary(workspace: Workspace) -> dict:
    found = caps.overview(workspace)
    return {
        "workspace": workspace.slug,
        "currency": workspace.currency,  # every amount's
        "month": found["month"].key,
        "cap": _money(found["cap"]),
        "spent": str(found["spent"]),
        "left": _money(found["left"]),
        "thresholds": found["thresholds"],
        "time_zone": found["time_zone"],
        "alerts": [a.threshold for a in found["alerts"]],
        "members": {
            m["user"].get_username(): {"cap": _money(m["cap"]), "spent": str(m["spent"])}
            for m in found["members"]
        },
    }
