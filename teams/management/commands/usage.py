"""A month of a workspace's spending from the shell: totals by day, member and model.

manage.py usage SLUG [--month YYYY-MM] [--json]
"""

import json
from decimal import Decimal

from studio import budgets, money, usage
from studio.budgets import BudgetInvalid
from studio.management.cli import OneLineErrorsCommand
from studio.models import Workspace


class Command(OneLineErrorsCommand):
    help = "A month's spending in a workspace: by day, member and model."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--month", default="", help="YYYY-MM (default: this month)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, slug, month, **options):
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            self.invalid(f"no workspace with the slug “{slug}”")
        try:
            chosen = budgets.month_of(budgets.budget_for(workspace), key=month)
        except BudgetInvalid as error:
            self.invalid(f"--month: {error}")
        result = {"workspace": workspace.slug, **usage.as_json(usage.report(workspace, chosen))}
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return

        def shown(amount: str) -> str:
            return money.format(Decimal(amount), workspace)

        total = shown(result["total"])
        lines = [f"{workspace.name}, {result['month']}: {total} on {result['takes']} takes"]
        for title in ("days", "members", "models"):
            lines += [f"  {title}:"] + [f"    {k}: {shown(v)}" for k, v in result[title].items()]
        self.stdout.write("\n".join(lines))
